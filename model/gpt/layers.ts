/**
 * The GPT's layers as free functions `(g, weights, x) → Value`, in the style of llm.c's
 * `layernorm_forward`: one block of the residual stream each, built on the graph builder.
 */
import type { Graph, Value } from "../graph/mod.ts";
import type { GptConfig } from "./config.ts";
import { dropout } from "./dropout.ts";

/** Looks up a weight by its name relative to the current layer (e.g. `attn.c_attn.weight`). */
export type Weights = (name: string) => Value;

/** Keys and values a layer attends to besides its own tokens (the KV cache). */
export interface PastKeyValues {
  /** [batch, heads, past, headWidth] */
  readonly k: Value;
  readonly v: Value;
}

/** How a block sees its neighbours. */
export interface AttentionContext {
  /**
   * Added to the attention scores, broadcastable to [batch, heads, tokens, past + tokens]: 0 where
   * attending is allowed, −∞ where not. Adding is cheaper than selecting, forward and backward.
   */
  readonly mask: Value;
  readonly past?: PastKeyValues;
  /** Dropout ratio on the residual branches; 0 outside training. */
  readonly dropout?: number;
}

/** y = x·W + b, with W stored [in, out] as GPT-2's Conv1D does. */
export function linear(g: Graph, w: Weights, prefix: string, x: Value): Value {
  return g.add(g.matMul(x, w(`${prefix}.weight`)), w(`${prefix}.bias`));
}

/** LayerNormalization over the width. */
export function layerNorm(g: Graph, w: Weights, prefix: string, x: Value, epsilon: number): Value {
  return g.layerNormalization(x, w(`${prefix}.weight`), w(`${prefix}.bias`), epsilon).y;
}

/**
 * Causal multi-head self-attention. Returns the block's output and this step's keys and values
 * ([batch, heads, tokens, headWidth]) so a cache can keep them.
 */
export function attention(
  g: Graph,
  cfg: GptConfig,
  w: Weights,
  x: Value,
  ctx: AttentionContext,
): { y: Value; k: Value; v: Value } {
  const c = x.shape[2], h = cfg.heads, d = c / h;
  const heads = (z: Value) => g.transpose(g.reshape(z, [0, 0, h, d]), [0, 2, 1, 3]);
  const [q, k, v] = g.split(linear(g, w, "attn.c_attn", x), [c, c, c], 2).map(heads);
  const keys = ctx.past ? g.concat([ctx.past.k, k], 2) : k;
  const values = ctx.past ? g.concat([ctx.past.v, v], 2) : v;
  // Scaling q rather than the scores touches t·d numbers instead of t·s.
  const scores = g.matMul(g.mul(q, g.constant(1 / Math.sqrt(d), q.dtype)), g.transposeLast2(keys));
  const mixed = g.matMul(g.softmax(g.add(scores, ctx.mask), -1), values);
  const merged = g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [0, 0, c]);
  return { y: dropout(g, linear(g, w, "attn.c_proj", merged), ctx.dropout ?? 0), k, v };
}

/** The feed-forward block: width → 4·width → GELU (tanh) → width. */
export function mlp(g: Graph, w: Weights, x: Value): Value {
  return linear(g, w, "mlp.c_proj", g.gelu(linear(g, w, "mlp.c_fc", x), "tanh"));
}

/** A pre-LayerNorm transformer block: x + attn(ln₁(x)), then + mlp(ln₂(x)). */
export function block(
  g: Graph,
  cfg: GptConfig,
  w: Weights,
  x: Value,
  ctx: AttentionContext,
): { x: Value; k: Value; v: Value } {
  const attn = attention(g, cfg, w, layerNorm(g, w, "ln_1", x, cfg.layerNormEpsilon), ctx);
  const mid = g.add(x, attn.y);
  const ff = dropout(
    g,
    mlp(g, w, layerNorm(g, w, "ln_2", mid, cfg.layerNormEpsilon)),
    ctx.dropout ?? 0,
  );
  const out = g.add(mid, ff);
  return { x: out, k: attn.k, v: attn.v };
}
