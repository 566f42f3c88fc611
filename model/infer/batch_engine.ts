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
 *
 * @module
 */

/** What a sequence asks of a step. */
export interface RowRequest {
  /** Above 0: return softmax(logits / temperature). 0 (the default) is greedy. */
  temperature?: number;
  /** Return the logits even with a temperature (a repetition penalty changes them first). */
  logits?: boolean;
}

/**
 * What a step gives one sequence: the logits for a greedy row or one that asked for them, the
 * probabilities for a row with a temperature. Only what some row needs is fetched from the
 * session: a step's output is vocabulary-wide per row, and copying it out is a share of the step.
 */
export interface NextToken {
  logits?: Float32Array;
  /** softmax(logits / temperature), for a sequence given a temperature above 0. */
  probs?: Float32Array;
}

/** Token embeddings (final LayerNorm output) and their mean. */
export interface Embeddings {
  tokens: Float32Array[];
  mean: Float32Array;
}

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
