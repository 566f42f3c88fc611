/**
 * The inference graphs with a key/value cache: a prefill graph that reads a (right-padded) prompt
 * and returns its keys and values, and a decode graph that reads one token per sequence plus the
 * cache and returns the next-token logits and that token's keys and values. Weights are
 * initializers, so onnxruntime can prepack them.
 *
 * The decode graph's batch and cache length are symbolic (the cache length is the KvCache's
 * capacity, which follows the longest sequence); everything else is static. Cache positions that
 * hold nothing are masked out by an additive mask the caller supplies.
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
 * The decode graph's batch axis is symbolic (`batch`), so one compiled session serves every batch
 * size. The graph is built and shape-checked at this representative size: not 1, so a broadcast
 * that would only hold for one sequence fails the check.
 */
const SAMPLE_BATCH = 3;
const BATCH = { 0: "batch" } as const;

/**
 * Prefill for one sequence of `length` tokens (right-padded; padding never influences real tokens
 * because attention is causal). Inputs: `ids` int64 [1, length], `last` int64 [1] (index of the
 * last real token), `temperature` float32 [1, 1]. Outputs: `logits` [1, vocab] at `last`, `probs`
 * (their softmax at the temperature), `hidden` [1, length, width] (the final LayerNorm's output,
 * for embeddings), and `present_k.i` / `present_v.i` [1, heads, length, headWidth].
 */
export function buildPrefillGraph(cfg: GptConfig, weights: WeightTable, length: number): Graph {
  const g = new Graph();
  const ids = g.input("ids", "int64", [1, length]);
  const last = g.input("last", "int64", [1]);
  const temperature = g.input("temperature", "float32", [1, 1]);
  const weight = initializers(g, weights);
  const out = gptForward(g, cfg, weight, { ids }, "float32");
  const picked = g.reshape(g.gather(out.hidden, last, 1), [1, cfg.width]);
  outputLogits(g, head(g, cfg, weight, picked), temperature);
  g.output(out.hidden, "hidden");
  out.presents.forEach((p, i) => {
    g.output(p.k, `present_k.${i}`);
    g.output(p.v, `present_v.${i}`);
  });
  return g;
}

/**
 * One decode step for a batch of sequences over a cache of `cache` positions (symbolic; at most
 * the context). Inputs: `ids` and `positions` int64 [batch, 1], `temperature` float32 [batch, 1],
 * `mask` float32 [batch, 1, 1, cache + 1] (0 where a cache position holds a real token and for the
 * last entry, the token itself; −∞ elsewhere) and `past_k.i` / `past_v.i` [batch, heads, cache,
 * headWidth]. Outputs: `logits` [batch, vocab], `probs` (their softmax at each row's temperature)
 * and `present_k.i` / `present_v.i` [batch, heads, 1, headWidth], which the caller
 * writes into its cache at each sequence's position.
 *
 * With `cacheOnDevice` (the cache lives in GPU memory, see device_kv_cache.ts) the step writes the
 * new keys and values itself: an extra input `write` bool [batch, 1, cache, 1] marks each
 * sequence's position, and the outputs `cache_k.i` / `cache_v.i` [batch, heads, cache, headWidth]
 * are the past with the new token in place, replacing `present_k.i` / `present_v.i`.
 */
export function buildDecodeGraph(
  cfg: GptConfig,
  weights: WeightTable,
  attention: DecodeAttention = "split",
  cacheOnDevice = false,
): Graph {
  const g = new Graph();
  const d = cfg.width / cfg.heads, b = SAMPLE_BATCH;
  const ids = g.input("ids", "int64", [b, 1], BATCH);
  const positions = g.input("positions", "int64", [b, 1], BATCH);
  const temperature = g.input("temperature", "float32", [b, 1], BATCH);
  const c = cfg.contextLength;
  const mask = g.input("mask", "float32", [b, 1, 1, c + 1], { ...BATCH, 3: "cache_and_self" });
  const past: PastKeyValues[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const shape = [b, cfg.heads, c, d];
    past.push({
      k: g.input(`past_k.${i}`, "float32", shape, { ...BATCH, 2: "cache" }),
      v: g.input(`past_v.${i}`, "float32", shape, { ...BATCH, 2: "cache" }),
    });
  }
  const weight = initializers(g, attention === "split" ? withScaledQueries(cfg, weights) : weights);
  let out: { logits: Value; presents: PastKeyValues[] };
  if (attention === "concat") {
    const forward = gptForward(g, cfg, weight, { ids, positions, mask, past }, "float32");
    const hidden = g.reshape(forward.hidden, [-1, cfg.width]);
    out = { logits: head(g, cfg, weight, hidden), presents: forward.presents };
  } else {
    out = decodeStep(g, cfg, weight, { ids, positions, mask, past }, attention);
  }
  outputLogits(g, out.logits, temperature);
  if (cacheOnDevice) {
    const cacheAxes = { ...BATCH, 2: "cache" };
    const write = g.input("write", "bool", [b, 1, c, 1], cacheAxes);
    out.presents.forEach((p, i) => {
      g.output(g.where(write, p.k, past[i].k), `cache_k.${i}`, cacheAxes);
      g.output(g.where(write, p.v, past[i].v), `cache_v.${i}`, cacheAxes);
    });
    return g;
  }
  out.presents.forEach((p, i) => {
    g.output(p.k, `present_k.${i}`, BATCH);
    g.output(p.v, `present_v.${i}`, BATCH);
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

/**
 * The weights with each layer's query projection (the first third of `attn.c_attn`) multiplied by
 * 1/√headWidth, so the split decode graph needs no scaling op (onnxruntime fuses a scale into the
 * scores MatMul as an alpha that takes a slower kernel). Exact when headWidth is a power of 4.
 */
function withScaledQueries(cfg: GptConfig, weights: WeightTable): WeightTable {
  const scale = 1 / Math.sqrt(cfg.width / cfg.heads), c = cfg.width;
  const scaled = new Map(weights);
  for (let i = 0; i < cfg.layers; i++) {
    const name = `transformer.h.${i}.attn.c_attn`;
    const w = weights.get(`${name}.weight`), b = weights.get(`${name}.bias`);
    if (!w || !b) throw new Error(`Missing weight "${name}" in the checkpoint`);
    const wq = w.data.slice(), bq = b.data.slice();
    for (let r = 0; r < c; r++) for (let j = 0; j < c; j++) wq[r * 3 * c + j] *= scale;
    for (let j = 0; j < c; j++) bq[j] *= scale;
    scaled.set(`${name}.weight`, { data: wq, shape: w.shape });
    scaled.set(`${name}.bias`, { data: bq, shape: b.shape });
  }
  return scaled;
}

/**
 * Outputs `logits` and `probs`, softmax(logits / temperature): sampling reads the probabilities
 * instead of exponentiating the whole vocabulary in JavaScript (docs/serving.md has the cost).
 */
function outputLogits(g: Graph, logits: Value, temperature: Value): void {
  g.output(logits, "logits", BATCH);
  g.output(g.softmax(g.div(logits, temperature), -1), "probs", BATCH);
}

function head(g: Graph, cfg: GptConfig, weight: (name: string) => Value, hidden: Value): Value {
  const table = cfg.tieEmbeddings ? weight("transformer.wte.weight") : weight("lm_head.weight");
  return g.matMul(hidden, g.transpose(table, [1, 0]));
}

/** Each weight, by checkpoint name, as an initializer of `g` (added on first use). */
export function initializers(g: Graph, weights: WeightTable): (name: string) => Value {
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
