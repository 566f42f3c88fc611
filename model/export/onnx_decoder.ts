/**
 * The GPT as one ONNX decoder with past key/values, named and shaped as Hugging Face Optimum
 * exports GPT-2 for the `text-generation-with-past` task (the `onnx/model.onnx` transformers.js
 * loads):
 *
 * - inputs: `input_ids` int64 [batch_size, sequence_length], `attention_mask` int64 [batch_size,
 *   past_sequence_length + sequence_length] (1 for a real token, 0 for padding), `position_ids`
 *   int64 [batch_size, sequence_length], and per layer `past_key_values.{i}.key` / `.value`
 *   float32 [batch_size, heads, past_sequence_length, headWidth] (length 0 on the first call);
 * - outputs: `logits` float32 [batch_size, sequence_length, vocab] and `present.{i}.key` /
 *   `.value` [batch_size, heads, past_sequence_length + sequence_length, headWidth].
 *
 * Weights are initializers. The mask is built in the graph from `attention_mask` and the lengths,
 * like GPT-2's: a query sees cached and earlier keys that are not padding. Blocked scores get the
 * most negative float rather than −∞, as transformers does, so a row of padding stays finite.
 */
import { Graph, type Value } from "../graph/mod.ts";
import { type GptConfig, gptForward, type PastKeyValues } from "../gpt/mod.ts";
import { initializers, type WeightTable } from "../infer/mod.ts";

/** Representative sizes the graph is built and shape-checked at; each axis named below varies. */
const SAMPLE = { batch: 2, tokens: 3, past: 5 };
const BATCH = "batch_size", TOKENS = "sequence_length", PAST = "past_sequence_length";
const TOTAL = "past_sequence_length + sequence_length";
/** float32's lowest value: transformers' mask value. */
const BLOCKED = -3.4028234663852886e38;

/** Builds the decoder for `cfg` with `weights` as initializers. */
export function buildOnnxDecoder(cfg: GptConfig, weights: WeightTable): Graph {
  const g = new Graph();
  const { batch: b, tokens: t, past: p } = SAMPLE;
  const h = cfg.heads, d = cfg.width / cfg.heads;
  const ids = g.input("input_ids", "int64", [b, t], { 0: BATCH, 1: TOKENS });
  const attentionMask = g.input("attention_mask", "int64", [b, p + t], { 0: BATCH, 1: TOTAL });
  const positions = g.input("position_ids", "int64", [b, t], { 0: BATCH, 1: TOKENS });
  const past: PastKeyValues[] = [];
  for (let i = 0; i < cfg.layers; i++) {
    const named = (which: string) =>
      g.input(`past_key_values.${i}.${which}`, "float32", [b, h, p, d], { 0: BATCH, 2: PAST });
    past.push({ k: named("key"), v: named("value") });
  }
  const mask = attentionBias(g, ids, attentionMask);
  const out = gptForward(
    g,
    cfg,
    initializers(g, weights),
    { ids, positions, mask, past },
    "float32",
  );
  g.output(out.logits, "logits", { 0: BATCH, 1: TOKENS });
  out.presents.forEach((present, i) => {
    g.output(g.concat([past[i].k, present.k], 2), `present.${i}.key`, { 0: BATCH, 2: TOTAL });
    g.output(g.concat([past[i].v, present.v], 2), `present.${i}.value`, { 0: BATCH, 2: TOTAL });
  });
  return g;
}

/**
 * The additive attention mask [batch, 1, tokens, past + tokens]: 0 where query i (at absolute
 * index past + i) may see key j (j ≤ past + i and attention_mask[j] = 1), BLOCKED elsewhere. The
 * lengths are symbolic, so the indices come from CumSum over rows of ones, not from constants.
 */
function attentionBias(g: Graph, ids: Value, attentionMask: Value): Value {
  const int = (x: number) => g.constant(x, "int64");
  const onesLike = (row: Value) => g.add(g.mul(row, int(0)), int(1));
  const count = (row: Value) => cumSum(g, onesLike(row)); // 1, 2, … along the row
  const keys = count(g.slice(attentionMask, [0], [1], [0])); // [1, total]
  const queries = count(g.slice(ids, [0], [1], [0])); // [1, tokens]
  const pastLength = g.sub(g.reduceSum(keys.ones, [1]), g.reduceSum(queries.ones, [1])); // [1, 1]
  const queryIndex = g.reshape(g.add(queries.index, pastLength), [1, 1, -1, 1]);
  const keyIndex = g.reshape(keys.index, [1, 1, 1, -1]);
  const future = compare(g, "Greater", keyIndex, queryIndex);
  const padding = g.equal(g.reshape(attentionMask, [0, 1, 1, -1]), int(0));
  const [blocked] = g.node("Or", [future, padding], [{
    dtype: "bool",
    shape: [padding.shape[0], 1, future.shape[2], padding.shape[3]],
  }]);
  return g.where(blocked, g.constant(BLOCKED, "float32"), g.constant(0, "float32"));
}

function cumSum(g: Graph, ones: Value): { ones: Value; index: Value } {
  const [index] = g.node("CumSum", [ones, g.constant(1, "int64")], [ones]);
  return { ones, index };
}

function compare(g: Graph, op: "Greater", a: Value, b: Value): Value {
  const shape = a.shape.map((n, i) => Math.max(n, b.shape[i]));
  return g.node(op, [a, b], [{ dtype: "bool", shape }])[0];
}
