/**
 * The inference engine: compiled prefill and decode graphs plus the key/value cache of every slot.
 * Live sequences occupy slots 0 … active−1, so a decode step feeds the cache's leading slots as
 * views, without copying it. The decode graph's batch axis is symbolic: one session serves every
 * batch size, without padding rows.
 *
 * On `webgpu` the cache lives in GPU memory ({@linkcode DeviceKvCache}) and the decode step writes
 * each new token's keys and values into it itself; per step only the ids, positions and masks go
 * up and the logits (or probabilities) come down.
 *
 * @example
 * ```ts
 * const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 8 });
 * const slot = engine.acquire();
 * let next = await engine.prefill(slot, promptIds);
 * [next] = await engine.decode([argmax(next.logits)]); // one row per live slot
 * engine.release(slot);
 * ```
 */
import type { GptConfig } from "../gpt/mod.ts";
import { InputError } from "../errors.ts";
import { createSession, type Device, ort, resolveDevice } from "../runtime.ts";
import type { BatchEngine, Embeddings, NextToken, RowRequest } from "./batch_engine.ts";
import { DeviceKvCache } from "./device_kv_cache.ts";
import { KvCache } from "./kv_cache.ts";
import type { SlotCache } from "./slot_cache.ts";
import {
  buildDecodeGraph,
  buildFullGraph,
  buildPrefillGraph,
  type DecodeAttention,
  type WeightTable,
} from "./kv_graphs.ts";

/** How the engine runs. */
export interface EngineOptions {
  /** Sequences decoded together at most (cache slots). */
  maxBatch: number;
  device?: Device | string;
  /** Intra-op threads per session; onnxruntime's choice when absent. */
  threads?: number;
  /** Decode attention variant (default `split`, the faster; see kv_graphs.ts). */
  attention?: DecodeAttention;
}

/** KV-cached inference over one model (the {@linkcode BatchEngine} a scheduler drives). */
export class InferenceEngine implements BatchEngine {
  readonly cfg: GptConfig;
  readonly maxBatch: number;
  readonly cache: SlotCache;
  #active = 0;
  readonly #weights: WeightTable;
  readonly #options: EngineOptions;
  readonly #device: Device;
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();
  /** The prefill graph's outputs holding each layer's new keys and values. */
  readonly #presents: string[];
  /** The decode graph's: the same, or on webgpu the whole updated cache. */
  readonly #decodePresents: string[];

  private constructor(cfg: GptConfig, weights: WeightTable, options: EngineOptions) {
    this.cfg = cfg;
    this.maxBatch = options.maxBatch;
    this.#device = resolveDevice(options.device);
    const onDevice = this.#device.kind === "webgpu";
    this.cache = onDevice
      ? new DeviceKvCache(cfg, options.maxBatch, this.#device)
      : new KvCache(cfg, options.maxBatch);
    this.#weights = weights;
    this.#options = options;
    const names = (prefix: string) =>
      Array.from({ length: cfg.layers }, (_, i) => [`${prefix}_k.${i}`, `${prefix}_v.${i}`])
        .flat();
    this.#presents = names("present");
    this.#decodePresents = onDevice ? names("cache") : this.#presents;
  }

  /**
   * Builds the engine and compiles the decode graph and the shortest prefill graph up front, so no
   * live stream stalls for a compile (about 0.13 s a graph at `small`).
   */
  static async create(
    cfg: GptConfig,
    weights: WeightTable,
    options: EngineOptions,
  ): Promise<InferenceEngine> {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new InputError("--max-batch", `expected a positive integer, got ${options.maxBatch}`);
    }
    const engine = new InferenceEngine(cfg, weights, options);
    await engine.#decodeSession();
    await engine.#prefillSession(engine.prefillBucket(1));
    return engine;
  }

  /** Slots in use. */
  get active(): number {
    return this.#active;
  }

  /** Takes the next free slot (always `active`), or throws when all are in use. */
  acquire(): number {
    if (this.#active >= this.maxBatch) throw new RangeError("No free cache slot");
    this.cache.lengths[this.#active] = 0;
    return this.#active++;
  }

  /**
   * Frees `slot` by moving the last live slot into it. Returns the index that moved (whose owner
   * now lives at `slot`), or −1 when `slot` was the last.
   */
  release(slot: number): number {
    const last = --this.#active;
    this.cache.release(slot, last);
    return slot === last ? -1 : last;
  }

  /** The padded prompt length used for `tokens` tokens: 16, 32, 64 … up to the context. */
  prefillBucket(tokens: number): number {
    let b = 16;
    while (b < tokens) b *= 2;
    return Math.min(b, this.cfg.contextLength);
  }

  /**
   * Reads `ids` into `slot`'s cache (replacing what it held) and returns what `row` asks of the
   * token that follows them (by default its logits).
   */
  async prefill(slot: number, ids: readonly number[], row: RowRequest = {}): Promise<NextToken> {
    const n = ids.length;
    this.#checkLength(n);
    const length = this.prefillBucket(n);
    const out = await this.#runPrefill(ids, length, row, this.#fetches([row], this.#presents));
    await this.cache.place(slot, out, n, this.#active);
    this.cache.lengths[slot] = n;
    return rows(out, [row])[0];
  }

  /**
   * One step for every live slot: `tokens[s]` is slot s's next token, placed at position
   * `cache.lengths[s]`. Returns what `requests[s]` asks of each slot's next token (by default its
   * logits).
   */
  async decode(
    tokens: readonly number[],
    requests: readonly RowRequest[] = [],
  ): Promise<NextToken[]> {
    const n = this.#active;
    if (tokens.length !== n) throw new RangeError(`Expected ${n} tokens, got ${tokens.length}`);
    const asked = Array.from({ length: n }, (_, s) => requests[s] ?? {});
    const { contextLength } = this.cfg;
    const longest = Math.max(...this.cache.lengths.subarray(0, n));
    if (longest >= contextLength) throw new RangeError(`A slot is full (${contextLength} tokens)`);
    const c = this.cache.capacityFor(longest + 1);
    const ids = new BigInt64Array(n), positions = new BigInt64Array(n);
    const mask = new Float32Array(n * (c + 1)).fill(-Infinity);
    for (let s = 0; s < n; s++) {
      const pos = this.cache.lengths[s];
      ids[s] = BigInt(tokens[s]);
      positions[s] = BigInt(pos);
      mask.fill(0, s * (c + 1), s * (c + 1) + pos);
      mask[s * (c + 1) + c] = 0;
    }
    const session = await this.#decodeSession();
    const feeds: Record<string, ort.Tensor> = {
      ids: new ort.Tensor("int64", ids, [n, 1]),
      positions: new ort.Tensor("int64", positions, [n, 1]),
      temperature: temperatureFeed(asked),
      mask: new ort.Tensor("float32", mask, [n, 1, 1, c + 1]),
      ...await this.cache.decodeFeeds(n, c),
    };
    const out = await session.run(feeds, this.#fetches(asked, this.#decodePresents));
    this.cache.adopt(out, n);
    for (let s = 0; s < n; s++) this.cache.lengths[s]++;
    return rows(out, asked);
  }

  /** Final-LayerNorm hidden states of `ids` and their mean (no cache involved). */
  async embed(ids: readonly number[]): Promise<Embeddings> {
    const n = ids.length;
    this.#checkLength(n);
    const out = await this.#runPrefill(ids, this.prefillBucket(n), {}, ["hidden"]);
    const hidden = out.hidden.data as Float32Array, w = this.cfg.width;
    const tokens = Array.from({ length: n }, (_, t) => hidden.slice(t * w, (t + 1) * w));
    const mean = new Float32Array(w);
    for (const row of tokens) for (let j = 0; j < w; j++) mean[j] += row[j] / n;
    return { tokens, mean };
  }

  /**
   * The logits after each of `ids`, [ids.length × vocab], for scoring a prompt: the whole-sequence
   * graph at the prefill bucket's length (causal attention keeps the padding from mattering), so
   * at most one graph per bucket is compiled and the cache is not touched.
   */
  async promptLogits(ids: readonly number[]): Promise<Float32Array> {
    const n = ids.length;
    this.#checkLength(n);
    const padded = Array.from({ length: this.prefillBucket(n) }, (_, j) => ids[j] ?? 0);
    return (await this.forwardFull([padded])).subarray(0, n * this.cfg.vocabSize);
  }

  /**
   * Logits [batch × length × vocab] of whole sequences recomputed without a cache: the reference
   * for the cached path and the "no cache" benchmark. `ids` is batch × length.
   */
  async forwardFull(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const b = ids.length, t = ids[0].length;
    this.#checkLength(t);
    const session = this.#cached(
      `full:${b}:${t}`,
      () => buildFullGraph(this.cfg, this.#weights, b, t),
    );
    const flat = new BigInt64Array(b * t);
    ids.forEach((row, r) => row.forEach((id, j) => flat[r * t + j] = BigInt(id)));
    const out = await (await session).run({ ids: new ort.Tensor("int64", flat, [b, t]) });
    return out.logits.data as Float32Array;
  }

  async #runPrefill(
    ids: readonly number[],
    length: number,
    row: RowRequest,
    outputs: string[],
  ) {
    const padded = new BigInt64Array(length);
    ids.forEach((id, j) => padded[j] = BigInt(id));
    const session = await this.#prefillSession(length);
    const feeds = {
      ids: new ort.Tensor("int64", padded, [1, length]),
      last: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length - 1)), [1]),
      temperature: temperatureFeed([row]),
    };
    return await session.run(feeds, outputs);
  }

  /**
   * The outputs a step needs for rows asking `requests`: the new keys and values (`presents`), and
   * the logits and probabilities if some row asks for them (never the prefill graph's hidden
   * states).
   */
  #fetches(requests: readonly RowRequest[], presents: readonly string[]): string[] {
    return [
      ...(requests.some(wantsLogits) ? ["logits"] : []),
      ...(requests.some(probsTemperature) ? ["probs"] : []),
      ...presents,
    ];
  }

  #checkLength(n: number): void {
    if (n < 1 || n > this.cfg.contextLength) {
      throw new InputError(
        "prompt",
        `${n} tokens do not fit the context of ${this.cfg.contextLength} tokens`,
      );
    }
  }

  #prefillSession(length: number): Promise<ort.InferenceSession> {
    return this.#cached(
      `prefill:${length}`,
      () => buildPrefillGraph(this.cfg, this.#weights, length),
      this.cache.onDevice ? this.#presents : [],
    );
  }

  #decodeSession(): Promise<ort.InferenceSession> {
    const onDevice = this.cache.onDevice;
    return this.#cached(
      "decode",
      () => buildDecodeGraph(this.cfg, this.#weights, this.#options.attention, onDevice),
      onDevice ? this.#decodePresents : [],
    );
  }

  #cached(
    key: string,
    build: () => { toModel(): Uint8Array },
    outputsOnDevice: readonly string[] = [],
  ): Promise<ort.InferenceSession> {
    let s = this.#sessions.get(key);
    if (!s) {
      s = createSession(build().toModel(), {
        device: this.#device,
        threads: this.#options.threads,
        outputsOnDevice,
      });
      this.#sessions.set(key, s);
    }
    return s;
  }
}

/**
 * The graphs' `temperature` input [rows, 1]: each row's temperature, and 1 where it is 0 (greedy,
 * no probabilities wanted), so the softmax stays finite.
 */
function temperatureFeed(requests: readonly RowRequest[]): ort.Tensor {
  const t = Float32Array.from(requests, (r) => probsTemperature(r) ?? 1);
  return new ort.Tensor("float32", t, [t.length, 1]);
}

/** The temperature of the probabilities the request asks for; undefined when it asks for none. */
function probsTemperature(r: RowRequest): number | undefined {
  return r.temperature && r.temperature > 0 ? r.temperature : undefined;
}

function wantsLogits(r: RowRequest): boolean {
  return !probsTemperature(r) || !!r.logits;
}

/**
 * Each row's logits and probabilities as asked by `requests` (one per row): views of the step's
 * own output tensors (fresh each run), not copies.
 */
function rows(
  out: ort.InferenceSession.OnnxValueMapType,
  requests: readonly RowRequest[],
): NextToken[] {
  const view = (name: string, s: number) => {
    const t = out[name], v = t.dims[1];
    return (t.data as Float32Array).subarray(s * v, (s + 1) * v);
  };
  return requests.map((r, s) => ({
    ...(wantsLogits(r) ? { logits: view("logits", s) } : {}),
    ...(probsTemperature(r) ? { probs: view("probs", s) } : {}),
  }));
}
