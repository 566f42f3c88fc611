/**
 * The inference graphs with a key/value cache: a prefill graph that reads a (right-padded) prompt
 * and returns its keys and values, and a decode graph that reads one token per sequence plus the
 * cache and returns the next-token logits and that token's keys and values. Weights are
 * initializers, so onnxruntime can prepack them.
 *
 * Shapes are static: the cache is [batch, heads, context, headWidth] per layer, and positions that
 * hold nothing yet are masked out by an additive mask the caller supplies.
 */
import { Graph, type Value } from "../graph/mod.ts";
import { type GptConfig, gptForward, type PastKeyValues } from "../gpt/mod.ts";
import { decodeStep } from "./decode_step.ts";

/**
 * How the decode graph attends to the cache: `split` scores the cache and the new token apart
 * (reads the cache once, copies nothing; see decode_step.ts), `concat` is gptForward's
 * Concat(past, new) (copies every layer's cache each step), `fused` is onnxruntime's
 * com.microsoft MultiHeadAttention. Measured in bench/decode.ts.
 */
export type DecodeAttention = "split" | "concat" | "fused";

/** Weights by checkpoint name, fp32 in the layout of {@linkcode paramSpecs}. */
export type WeightTable = ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>;

/**
 * Prefill for one sequence of `length` tokens (right-padded; padding never influences real tokens
 * because attention is causal). Inputs: `ids` int64 [1, length], `last` int64 [1] (index of the
 * last real token). Outputs: `logits` [1, vocab] at `last`, `hidden` [1, length, width] (the final
 * LayerNorm's output, for embeddings), and `present_k.i` / `present_v.i` [1, heads, length, headWidth].
 */
export function buildPrefillGraph(cfg: GptConfig, weights: WeightTable, length: number): Graph {
  const g = new Graph();
  const ids = g.input("ids", "int64", [1, length]);
  const last = g.input("last", "int64", [1]);
  const weight = initializers(g, weights);
  const out = gptForward(g, cfg, weight, { ids }, "float32");
  const picked = g.reshape(g.gather(out.hidden, last, 1), [1, cfg.width]);
  g.output(head(g, cfg, weight, picked), "logits");
  g.output(out.hidden, "hidden");
  out.presents.forEach((p, i) => {
    g.output(p.k, `present_k.${i}`);
    g.output(p.v, `present_v.${i}`);
  });
  return g;
}

/**
 * One decode step for `batch` sequences. Inputs: `ids` and `positions` int64 [batch, 1], `mask`
 * float32 [batch, 1, 1, context + 1] (0 where a cache position holds a real token and for the last
 * entry, the token itself; −∞ elsewhere), and `past_k.i` / `past_v.i` [batch, heads, context,
 * headWidth]. Outputs: `logits` [batch, vocab] and `present_k.i` / `present_v.i`
 * [batch, heads, 1, headWidth], which the caller writes into its cache at each sequence's position.
 */
export function buildDecodeGraph(
  cfg: GptConfig,
  weights: WeightTable,
  batch: number,
  attention: DecodeAttention = "split",
): Graph {
  const g = new Graph();
  const d = cfg.width / cfg.heads;
  const ids = g.input("ids", "int64", [batch, 1]);
  const positions = g.input("positions", "int64", [batch, 1]);
  const mask = g.input("mask", "float32", [batch, 1, 1, cfg.contextLength + 1]);
  const past: PastKeyValues[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const shape = [batch, cfg.heads, cfg.contextLength, d];
    past.push({
      k: g.input(`past_k.${i}`, "float32", shape),
      v: g.input(`past_v.${i}`, "float32", shape),
    });
  }
  const weight = initializers(g, weights);
  if (attention !== "concat") {
    const out = decodeStep(g, cfg, weight, { ids, positions, mask, past }, attention === "fused");
    g.output(out.logits, "logits");
    out.presents.forEach((p, i) => {
      g.output(p.k, `present_k.${i}`);
      g.output(p.v, `present_v.${i}`);
    });
    return g;
  }
  const out = gptForward(g, cfg, weight, { ids, positions, mask, past }, "float32");
  g.output(head(g, cfg, weight, g.reshape(out.hidden, [batch, cfg.width])), "logits");
  out.presents.forEach((p, i) => {
    g.output(p.k, `present_k.${i}`);
    g.output(p.v, `present_v.${i}`);
  });
  return g;
}

/**
 * The whole sequence without a cache: `ids` int64 [batch, length] in, `logits` [batch, length,
 * vocab] out. The reference the cached path is checked against, and the "no cache" benchmark.
 */
export function buildFullGraph(
  cfg: GptConfig,
  weights: WeightTable,
  batch: number,
  length: number,
): Graph {
  const g = new Graph();
  const ids = g.input("ids", "int64", [batch, length]);
  const out = gptForward(g, cfg, initializers(g, weights), { ids }, "float32");
  g.output(out.logits, "logits");
  return g;
}

function head(g: Graph, cfg: GptConfig, weight: (name: string) => Value, hidden: Value): Value {
  const table = cfg.tieEmbeddings ? weight("transformer.wte.weight") : weight("lm_head.weight");
  return g.matMul(hidden, g.transpose(table, [1, 0]));
}

function initializers(g: Graph, weights: WeightTable): (name: string) => Value {
  const made = new Map<string, Value>();
  return (name) => {
    let v = made.get(name);
    if (!v) {
      const w = weights.get(name);
      if (!w) throw new Error(`Missing weight "${name}" in the checkpoint`);
      made.set(name, v = g.initializer(name, "float32", w.shape, w.data));
    }
    return v;
  };
}
