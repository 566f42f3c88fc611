/**
 * KV-cached inference: prefill and decode graphs with weights as initializers, the per-slot
 * key/value cache, and the engine that runs them for a batch of live sequences.
 *
 * @example
 * ```ts
 * import { InferenceEngine } from "../model/infer/mod.ts";
 * const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 8 });
 * ```
 */
export { type EngineOptions, InferenceEngine } from "./engine.ts";
export type { BatchEngine, Embeddings, NextToken, RowRequest } from "./batch_engine.ts";
export type { SlotCache } from "./slot_cache.ts";
export {
  buildDecodeGraph,
  buildFullGraph,
  buildPrefillGraph,
  type DecodeAttention,
  initializers,
  type WeightTable,
} from "./kv_graphs.ts";
