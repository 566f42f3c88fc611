/**
 * The key/value cache in GPU memory (`--device webgpu`): per layer one keys and one values tensor
 * [rows, heads, capacity, headWidth] holding the live slots 0 … rows−1, fed to the decode step as
 * they are and replaced by its `cache_k.i` / `cache_v.i` outputs (the decode graph writes the new
 * token's keys and values itself; see buildDecodeGraph). Nothing of the cache crosses to the host.
 *
 * Everything else that changes its layout — a prefilled slot's keys and values placed at its row,
 * a released slot's row taken over by the last one, the capacity following the longest sequence in
 * blocks of {@linkcode CACHE_BLOCK} as {@linkcode KvCache}'s does — is one small graph, `regroup`:
 * the rows of the cache and of a second tensor, each cut or zero-padded to the new capacity, then
 * picked by index. It runs once per prefill and per change of capacity or of the live slots, not
 * per token.
 */
import type { GptConfig } from "../gpt/mod.ts";
import { Graph, type Value } from "../graph/mod.ts";
import { createSession, type Device, ort } from "../runtime.ts";
import { CACHE_BLOCK, cacheCapacity, type SlotCache } from "./slot_cache.ts";

/** Caches of up to `slots` sequences for the model `cfg`, in GPU memory. */
export class DeviceKvCache implements SlotCache {
  readonly onDevice = true;
  readonly slots: number;
  readonly heads: number;
  readonly context: number;
  readonly headWidth: number;
  /** Tokens held by each slot. */
  readonly lengths: Int32Array;
  readonly #layers: number;
  readonly #regroup: Promise<ort.InferenceSession>;
  #capacity: number;
  /** Keys then values, per layer: [rows, heads, capacity, headWidth]. */
  #tensors: ort.Tensor[] = [];
  /**
   * The row of `#tensors` each live slot's keys and values are in: releases only reorder this,
   * and the next step that reads the cache regroups the tensors to match (see `#settle`).
   */
  #view: number[] = [];

  constructor(cfg: GptConfig, slots: number, device: Device) {
    this.slots = slots;
    this.heads = cfg.heads;
    this.context = cfg.contextLength;
    this.headWidth = cfg.width / cfg.heads;
    this.lengths = new Int32Array(slots);
    this.#layers = cfg.layers;
    this.#capacity = Math.min(CACHE_BLOCK, this.context);
    this.#regroup = createSession(buildRegroupGraph(cfg).toModel(), {
      device,
      outputsOnDevice: cacheNames("out", cfg.layers),
    });
  }

  /** Positions each slot has room for now. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Slots whose keys and values the device holds (the live ones once each was prefilled). */
  get rows(): number {
    return this.#view.length;
  }

  /** The capacity that holds `tokens` positions: whole blocks, at most the context. */
  capacityFor(tokens: number): number {
    return cacheCapacity(tokens, this.context);
  }

  /**
   * The decode step's `past_k.i` / `past_v.i` feeds for `rows` live slots, the capacity set to
   * `capacity` first, and its `write` mask: true at each slot's next position.
   */
  async decodeFeeds(rows: number, capacity: number): Promise<Record<string, ort.Tensor>> {
    if (rows !== this.rows) {
      throw new RangeError(`The cache holds ${this.rows} prefilled slots, the step ${rows}`);
    }
    await this.#settle(capacity);
    const names = cacheNames("past", this.#layers);
    const write = new Uint8Array(rows * capacity);
    for (let s = 0; s < rows; s++) write[s * capacity + this.lengths[s]] = 1;
    return {
      ...Object.fromEntries(names.map((name, i) => [name, this.#tensors[i]])),
      write: new ort.Tensor("bool", write, [rows, 1, capacity, 1]),
    };
  }

  /** Takes the decode step's `cache_k.i` / `cache_v.i` outputs as the new cache. */
  adopt(out: Record<string, ort.Tensor>): void {
    const next = cacheNames("cache", this.#layers).map((name) => out[name]);
    for (const t of this.#tensors) t.dispose();
    this.#tensors = next;
  }

  /**
   * Puts a prefill's `present_k.i` / `present_v.i` outputs ([1, heads, length, headWidth], in
   * `out`) at row `slot`, growing the capacity to hold `tokens` positions if needed. A slot past
   * the held rows appends rows (those in between hold copies until their own prefill).
   */
  async place(slot: number, out: Record<string, ort.Tensor>, tokens: number): Promise<void> {
    const fresh = cacheNames("present", this.#layers).map((name) => out[name]);
    const capacity = Math.max(this.#capacity, this.capacityFor(tokens));
    const held = this.#view.length;
    // Indices below r pick rows of the cache, r the fresh tensor (with no cache yet, fresh is both).
    const source = held > 0 ? this.#tensors : fresh;
    const r = held > 0 ? Number(this.#tensors[0].dims[0]) : 1;
    const rows = Math.max(held, slot + 1);
    const pick = Array.from(
      { length: rows },
      (_, i) => (i === slot || i >= held ? r : this.#view[i]),
    );
    await this.#run(source, fresh, pick, capacity);
    for (const t of fresh) t.dispose();
  }

  /**
   * Frees `slot`, the last live slot moving into it. No GPU work: the rows are regrouped when the
   * cache is next read.
   */
  release(slot: number): void {
    const last = this.#view.length - 1;
    if (slot < last) {
      this.#view[slot] = this.#view[last];
      this.lengths[slot] = this.lengths[last];
    }
    if (slot <= last) this.#view.pop();
    this.lengths[Math.max(slot, last)] = 0;
  }

  /** Frees the cache and its session. */
  async dispose(): Promise<void> {
    for (const t of this.#tensors) t.dispose();
    this.#tensors = [];
    this.#view = [];
    await (await this.#regroup).release();
  }

  /** Regroups the tensors to the live slots in order, at `capacity` positions, if they differ. */
  async #settle(capacity: number): Promise<void> {
    const inOrder = this.#view.length === Number(this.#tensors[0]?.dims[0] ?? 0) &&
      this.#view.every((row, i) => row === i);
    if (inOrder && capacity === this.#capacity) return;
    if (this.#view.length === 0) {
      for (const t of this.#tensors) t.dispose();
      this.#tensors = [];
      this.#capacity = capacity;
      return;
    }
    await this.#run(this.#tensors, this.#tensors, this.#view, capacity);
  }

  async #run(cache: ort.Tensor[], fresh: ort.Tensor[], pick: number[], capacity: number) {
    const int64 = (values: number[]) =>
      new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [values.length]);
    const fit = (t: ort.Tensor) => {
      const keep = Math.min(Number(t.dims[2]), capacity);
      return { end: int64([keep]), pads: int64([0, 0, 0, 0, 0, 0, capacity - keep, 0]) };
    };
    const a = fit(cache[0]), b = fit(fresh[0]);
    const feeds: Record<string, ort.Tensor> = {
      pick: int64(pick),
      cache_end: a.end,
      cache_pads: a.pads,
      fresh_end: b.end,
      fresh_pads: b.pads,
    };
    cacheNames("cache", this.#layers).forEach((name, i) => feeds[name] = cache[i]);
    cacheNames("fresh", this.#layers).forEach((name, i) => feeds[name] = fresh[i]);
    const out = await (await this.#regroup).run(feeds);
    const next = cacheNames("out", this.#layers).map((name) => out[name]);
    if (cache === this.#tensors) { for (const t of this.#tensors) t.dispose(); }
    this.#tensors = next;
    this.#view = [...pick.keys()];
    this.#capacity = capacity;
  }
}

/** `PREFIX_k.0`, `PREFIX_v.0`, `PREFIX_k.1`, … for `layers` layers. */
function cacheNames(prefix: string, layers: number): string[] {
  return Array.from({ length: layers }, (_, i) => [`${prefix}_k.${i}`, `${prefix}_v.${i}`]).flat();
}

/**
 * For every layer's keys and values: Gather(Concat(fit(cache), fit(fresh)), pick) along the rows,
 * where fit cuts the positions axis at `*_end` and zero-pads it by `*_pads` (all sizes symbolic).
 */
function buildRegroupGraph(cfg: GptConfig): Graph {
  const g = new Graph();
  const d = cfg.width / cfg.heads, c = cfg.contextLength;
  const shape = [2, cfg.heads, c, d];
  const axes = { 0: "rows", 2: "positions" };
  const pick = g.input("pick", "int64", [2], { 0: "picked" });
  const fitInputs = (name: string) => ({
    end: g.input(`${name}_end`, "int64", [1]),
    pads: g.input(`${name}_pads`, "int64", [8]),
  });
  const cacheFit = fitInputs("cache"), freshFit = fitInputs("fresh");
  const fit = (x: Value, f: { end: Value; pads: Value }): Value => {
    const cut =
      g.node("Slice", [x, g.constant([0], "int64"), f.end, g.constant([2], "int64")], [x])[0];
    return g.node("Pad", [cut, f.pads], [x])[0];
  };
  const cache = cacheNames("cache", cfg.layers).map((n) => g.input(n, "float32", shape, axes));
  // Its own symbolic sizes: a prefill's rows and positions differ from the cache's.
  const freshAxes = { 0: "fresh_rows", 2: "fresh_positions" };
  const fresh = cacheNames("fresh", cfg.layers).map((n) => g.input(n, "float32", shape, freshAxes));
  const out = cacheNames("out", cfg.layers);
  cache.forEach((x, i) => {
    const both = g.concat([fit(x, cacheFit), fit(fresh[i], freshFit)], 0);
    g.output(g.gather(both, pick, 0), out[i], { 0: "picked", 2: "positions" });
  });
  return g;
}
