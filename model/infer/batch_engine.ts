/**
 * The contract between a continuous-batching scheduler and the engine it drives, as vLLM's
 * `interface.py` is between its scheduler and engine core: what the scheduler may call, what each
 * call promises, and what a failed call leaves behind. {@linkcode InferenceEngine} implements it;
 * `worker/serve/scheduler.ts` uses nothing else.
 *
 * Slots: the engine holds `maxBatch` key/value cache slots. Live sequences occupy slots
 * 0 … active−1, so a decode step reads them as one block. `acquire` always hands out slot
 * `active`; `release(s)` moves the last live slot into `s` and says which one moved, so the
 * scheduler can move that slot's owner too.
 *
 * Failure: `prefill`, `decode` and `promptLogits` may reject (onnxruntime refusing an input, a
 * device error). A rejected call leaves `active` and every other slot as they were; the slots it
 * was given may hold anything, and the scheduler must fail their sequences and `release` them.
 *
 * @example
 * ```ts
 * const slot = engine.acquire();
 * try {
 *   next = await engine.prefill(slot, ids, { temperature: 0.8 });
 * } catch (err) {
 *   engine.release(slot); // the sequence fails; every other slot is untouched
 * }
 * ```
 */
import type { Embeddings, NextToken, RowRequest } from "./engine.ts";

/** What a scheduler needs from the model it serves. */
export interface BatchEngine {
  /** The model's shape; a scheduler reads `vocabSize` and `contextLength`. */
  readonly cfg: { readonly vocabSize: number; readonly contextLength: number };
  /** Cache slots: sequences decoded together at most. */
  readonly maxBatch: number;
  /** Slots in use (always slots 0 … active−1). */
  readonly active: number;
  /** Takes slot `active`; throws RangeError when all `maxBatch` are in use. */
  acquire(): number;
  /** Frees `slot`; returns the slot whose sequence moved into it, or −1 when none did. */
  release(slot: number): number;
  /** Reads `ids` (1 … context tokens) into `slot`; returns what `row` asks of the next token. */
  prefill(slot: number, ids: readonly number[], row?: RowRequest): Promise<NextToken>;
  /** One step for every live slot: `tokens[s]` is slot s's next token. */
  decode(tokens: readonly number[], rows?: readonly RowRequest[]): Promise<NextToken[]>;
  /**
   * The logits after each of `ids` (1 … context tokens), [ids.length × vocab]: row j scores the
   * token that follows `ids[j]`. Uses no slot.
   */
  promptLogits(ids: readonly number[]): Promise<Float32Array>;
  /** Final-LayerNorm hidden states of `ids` and their mean. Uses no slot. */
  embed(ids: readonly number[]): Promise<Embeddings>;
}
