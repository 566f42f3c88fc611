/**
 * The GPT's forward pass for one new token per sequence against a key/value cache. The `split`
 * attention scores the cached keys and the token's own key apart and joins them only as scores
 * ([batch, heads, 1, cache + 1]), so the cache is read once per step and never copied
 * (gptForward's Concat of past and new keys copies the whole cache every step). It expects the
 * queries already scaled by 1/√headWidth in the weights (see kv_graphs.ts).
 *
 * Same weights, names and math as model/gpt's blocks; the cached-vs-recomputed test holds it to
 * gptForward's logits.
 */
import type { Graph, Value } from "../graph/mod.ts";
import { type GptConfig, type PastKeyValues, sinusoidalTable } from "../gpt/mod.ts";

/** Logits [batch, vocab] and each layer's key and value of the new token [batch, heads, 1, d]. */
export function decodeStep(
  g: Graph,
  cfg: GptConfig,
  weight: (name: string) => Value,
  inputs: { ids: Value; positions: Value; mask: Value; past: readonly PastKeyValues[] },
  variant: "split" | "fused",
): { logits: Value; presents: { k: Value; v: Value }[] } {
  const c = cfg.width;
  const table = cfg.positional === "learned" ? weight("transformer.wpe.weight") : g.initializer(
    "sinusoidal_positions",
    "float32",
    [cfg.contextLength, c],
    sinusoidalTable(cfg.contextLength, c),
  );
  let x = g.reshape(
    g.add(
      g.gather(weight("transformer.wte.weight"), inputs.ids),
      g.gather(table, inputs.positions),
    ),
    [0, c],
  );
  const presents: { k: Value; v: Value }[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const w = (name: string) => weight(`transformer.h.${i}.${name}`);
    const attend = variant === "fused" ? fusedAttention : attention;
    const attn = attend(g, cfg, w, norm(g, w, "ln_1", x, cfg), inputs.mask, inputs.past[i]);
    x = g.add(x, attn.y);
    const h = g.gelu(linear(g, w, "mlp.c_fc", norm(g, w, "ln_2", x, cfg)), "tanh");
    x = g.add(x, linear(g, w, "mlp.c_proj", h));
    presents.push({ k: attn.k, v: attn.v });
  }
  const hidden = norm(g, weight, "transformer.ln_f", x, cfg);
  const head = cfg.tieEmbeddings ? weight("transformer.wte.weight") : weight("lm_head.weight");
  return { logits: g.matMul(hidden, g.transpose(head, [1, 0])), presents };
}

function attention(
  g: Graph,
  cfg: GptConfig,
  w: (name: string) => Value,
  x: Value,
  mask: Value,
  past: PastKeyValues,
): { y: Value; k: Value; v: Value } {
  const c = x.shape[1], h = cfg.heads, d = c / h;
  const heads = (z: Value) => g.transpose(g.reshape(z, [0, 1, h, d]), [0, 2, 1, 3]);
  const [q, k, v] = g.split(linear(g, w, "attn.c_attn", x), [c, c, c], 1).map(heads);
  const scores = g.concat([
    g.matMul(q, g.transposeLast2(past.k)), // [b, h, 1, cache]
    g.matMul(q, g.transposeLast2(k)), //      [b, h, 1, 1]
  ], 3);
  const probs = g.softmax(g.add(scores, mask), -1);
  // Sliced from the end: the cache length is symbolic, so no size along it may be baked in.
  const toPast = g.slice(probs, [0], [-1], [3]);
  const toSelf = g.slice(probs, [-1], [Number.MAX_SAFE_INTEGER], [3]);
  const mixed = g.add(g.matMul(toPast, past.v), g.mul(toSelf, v)); // [b, h, 1, d]
  const merged = g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [0, c]);
  return { y: linear(g, w, "attn.c_proj", merged), k, v };
}

/**
 * The same attention through onnxruntime's fused com.microsoft MultiHeadAttention (past keys and
 * values as inputs, the mask as attention_bias); it concatenates the cache internally.
 */
function fusedAttention(
  g: Graph,
  cfg: GptConfig,
  w: (name: string) => Value,
  x: Value,
  mask: Value,
  past: PastKeyValues,
): { y: Value; k: Value; v: Value } {
  const [b, c] = x.shape, h = cfg.heads, d = c / h, ctx = cfg.contextLength;
  const [q, k, v] = g.split(linear(g, w, "attn.c_attn", x), [c, c, c], 1).map((z) =>
    g.reshape(z, [0, 1, c])
  );
  const present = { dtype: "float32" as const, shape: [b, h, ctx + 1, d] };
  const [out] = g.node(
    "MultiHeadAttention",
    [q, k, v, null, null, mask, past.k, past.v],
    [{ dtype: "float32", shape: [b, 1, c] }, present, present],
    { num_heads: { i: h } },
    "com.microsoft",
  );
  const heads = (z: Value) => g.transpose(g.reshape(z, [0, 1, h, d]), [0, 2, 1, 3]);
  return { y: linear(g, w, "attn.c_proj", g.reshape(out, [0, c])), k: heads(k), v: heads(v) };
}

function linear(g: Graph, w: (name: string) => Value, prefix: string, x: Value): Value {
  return g.add(g.matMul(x, w(`${prefix}.weight`)), w(`${prefix}.bias`));
}

function norm(g: Graph, w: (name: string) => Value, prefix: string, x: Value, cfg: GptConfig) {
  return g.layerNormalization(x, w(`${prefix}.weight`), w(`${prefix}.bias`), cfg.layerNormEpsilon)
    .y;
}
