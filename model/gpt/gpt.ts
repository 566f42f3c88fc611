/**
 * The GPT forward pass as a graph: token embedding + position embedding, pre-LayerNorm blocks,
 * final LayerNorm, and an output head that is the token embedding transposed when tied.
 */
import type { DType, Graph, Value } from "../graph/mod.ts";
import type { GptConfig } from "./config.ts";
import { dropout } from "./dropout.ts";
import { block, layerNorm, type PastKeyValues, type Weights } from "./layers.ts";
import { sinusoidalTable } from "./positional.ts";

/** What the forward pass reads besides the weights. */
export interface ForwardInputs {
  /** int64 [batch, tokens] */
  readonly ids: Value;
  /** int64 [batch, tokens] absolute positions; when absent, 0 … tokens−1 for every row. */
  readonly positions?: Value;
  /** See {@linkcode AttentionContext.mask}; when absent, causal over the tokens. */
  readonly mask?: Value;
  /** One entry per layer when decoding with a cache. */
  readonly past?: readonly PastKeyValues[];
  /** Applies the config's dropout (the train step only). */
  readonly training?: boolean;
}

/** Logits, the final hidden states, and each layer's new keys and values. */
export interface ForwardOutputs {
  readonly logits: Value;
  readonly hidden: Value;
  readonly presents: { k: Value; v: Value }[];
}

/**
 * Builds the forward pass. `weight` returns a parameter by its checkpoint name, already in the
 * compute dtype `dtype`.
 */
export function gptForward(
  g: Graph,
  cfg: GptConfig,
  weight: Weights,
  inputs: ForwardInputs,
  dtype: DType,
): ForwardOutputs {
  const t = inputs.ids.shape[1];
  const tokens = g.gather(weight("transformer.wte.weight"), inputs.ids);
  const p = inputs.training ? cfg.dropout : 0;
  const mask = inputs.mask ?? causalMask(g, t, dtype);
  let x = dropout(
    g,
    g.add(tokens, positionEmbedding(g, cfg, weight, inputs.positions, t, dtype)),
    p,
  );
  const presents: { k: Value; v: Value }[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const layer: Weights = (name) => weight(`transformer.h.${i}.${name}`);
    const out = block(g, cfg, layer, x, { mask, past: inputs.past?.[i], dropout: p });
    x = out.x;
    presents.push({ k: out.k, v: out.v });
  }
  const hidden = layerNorm(g, weight, "transformer.ln_f", x, cfg.layerNormEpsilon);
  const head = cfg.tieEmbeddings ? weight("transformer.wte.weight") : weight("lm_head.weight");
  const logits = g.matMul(hidden, g.transpose(head, [1, 0]));
  return { logits, hidden, presents };
}

/** Additive mask [tokens, tokens]: 0 on and below the diagonal, −∞ above it. */
export function causalMask(g: Graph, t: number, dtype: DType): Value {
  const mask: number[] = new Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) mask[i * t + j] = j <= i ? 0 : -Infinity;
  return g.constant(mask, dtype, [t, t]);
}

function positionEmbedding(
  g: Graph,
  cfg: GptConfig,
  weight: Weights,
  positions: Value | undefined,
  t: number,
  dtype: DType,
): Value {
  const table = cfg.positional === "learned" ? weight("transformer.wpe.weight") : g.cast(
    g.initializer(
      "sinusoidal_positions",
      "float32",
      [cfg.contextLength, cfg.width],
      sinusoidalTable(cfg.contextLength, cfg.width),
    ),
    dtype,
  );
  return positions ? g.gather(table, positions) : g.slice(table, [0], [t], [0]);
}
