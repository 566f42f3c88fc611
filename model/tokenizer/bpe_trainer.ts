import { BpeTokenizer, DEFAULT_SPECIAL_TOKENS } from "./bpe_tokenizer.ts";
import { GPT2_PATTERN } from "./pre_tokenize.ts";

/** Options for {@linkcode trainBpe}. */
export interface BpeTrainOptions {
  /** Final number of ids: 256 bytes + merges + special tokens. */
  vocabSize: number;
  /** Special tokens, given the last ids. Defaults to `<|endoftext|>`, `<|pad|>`. */
  specialTokens?: readonly string[];
  /** A pair seen fewer times than this is never merged (training may then stop early). */
  minFrequency?: number;
}

/**
 * Learns byte-level BPE merges from `texts`: count the pre-tokens once, then repeatedly merge the
 * most frequent adjacent pair (ties: the pair with the smaller ids), updating only the words that
 * contain it. Deterministic: the same texts give the same tokenizer.
 *
 * @example
 * ```ts
 * const tok = trainBpe(["the cat sat on the mat"], { vocabSize: 300 });
 * ```
 */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions): BpeTokenizer {
  const specials = opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  const minFrequency = Math.max(1, opts.minFrequency ?? 2);
  const targetMerges = opts.vocabSize - 256 - specials.length;
  if (targetMerges < 0) {
    throw new RangeError(
      `Vocabulary size ${opts.vocabSize} is below 256 bytes + ${specials.length} special tokens`,
    );
  }
  const stride = opts.vocabSize;
  const { words, counts } = countWords(texts);

  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (let w = 0; w < words.length; w++) {
    const sym = words[w];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = sym[i] * stride + sym[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + counts[w]);
      let set = where.get(key);
      if (!set) where.set(key, set = new Set());
      set.add(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push(count, key);

  const tokens: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const merges: [number, number][] = [];
  while (merges.length < targetMerges && heap.size > 0) {
    const [count, key] = heap.pop();
    const actual = pairCount.get(key) ?? 0;
    if (actual !== count) {
      if (actual > 0) heap.push(actual, key);
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(key / stride), b = key % stride;
    const id = tokens.length;
    const bytes = new Uint8Array(tokens[a].length + tokens[b].length);
    bytes.set(tokens[a]);
    bytes.set(tokens[b], tokens[a].length);
    tokens.push(bytes);
    merges.push([a, b]);

    const delta = new Map<number, number>();
    const add = (k: number, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    for (const w of where.get(key) ?? []) {
      const sym = words[w];
      if (!containsPair(sym, a, b)) continue;
      const c = counts[w];
      for (let i = 0; i + 1 < sym.length; i++) add(sym[i] * stride + sym[i + 1], -c);
      const merged = mergePair(sym, a, b, id);
      words[w] = merged;
      for (let i = 0; i + 1 < merged.length; i++) {
        const k = merged[i] * stride + merged[i + 1];
        add(k, c);
        let set = where.get(k);
        if (!set) where.set(k, set = new Set());
        set.add(w);
      }
    }
    where.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const next = (pairCount.get(k) ?? 0) + d;
      if (next > 0) pairCount.set(k, next);
      else pairCount.delete(k);
      if (d > 0) heap.push(next, k);
    }
  }
  const first = tokens.length;
  return new BpeTokenizer({
    tokens,
    merges,
    specials: specials.map((content, i) => ({ content, id: first + i })),
  });
}

function countWords(texts: Iterable<string>): { words: Int32Array[]; counts: number[] } {
  const freq = new Map<string, number>();
  for (const text of texts) {
    const re = new RegExp(GPT2_PATTERN.source, "gu");
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      freq.set(m[0], (freq.get(m[0]) ?? 0) + 1);
    }
  }
  const encoder = new TextEncoder();
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [word, count] of freq) {
    words.push(Int32Array.from(encoder.encode(word)));
    counts.push(count);
  }
  return { words, counts };
}

function containsPair(sym: Int32Array, a: number, b: number): boolean {
  for (let i = 0; i + 1 < sym.length; i++) if (sym[i] === a && sym[i + 1] === b) return true;
  return false;
}

function mergePair(sym: Int32Array, a: number, b: number, id: number): Int32Array {
  const out = new Int32Array(sym.length);
  let n = 0;
  for (let i = 0; i < sym.length; i++) {
    if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
      out[n++] = id;
      i++;
    } else {
      out[n++] = sym[i];
    }
  }
  return out.subarray(0, n);
}

/** Max-heap of (count, pair key); ties go to the smaller key, so training is deterministic. */
class PairHeap {
  #counts: number[] = [];
  #keys: number[] = [];

  get size(): number {
    return this.#counts.length;
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.#counts[0], this.#keys[0]];
    const lastCount = this.#counts.pop()!, lastKey = this.#keys.pop()!;
    if (this.#counts.length > 0) {
      this.#counts[0] = lastCount;
      this.#keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.#counts.length && this.#before(l, m)) m = l;
        if (r < this.#counts.length && this.#before(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }

  #before(i: number, j: number): boolean {
    const ci = this.#counts[i], cj = this.#counts[j];
    return ci > cj || (ci === cj && this.#keys[i] < this.#keys[j]);
  }

  #swap(i: number, j: number): void {
    [this.#counts[i], this.#counts[j]] = [this.#counts[j], this.#counts[i]];
    [this.#keys[i], this.#keys[j]] = [this.#keys[j], this.#keys[i]];
  }
}
