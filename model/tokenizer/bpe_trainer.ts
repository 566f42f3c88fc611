import { BpeTokenizer, DEFAULT_SPECIAL_TOKENS } from "./bpe_tokenizer.ts";
import { preTokenEnd, preTokenize } from "./pre_tokenize.ts";

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
 * Learns byte-level BPE merges from `texts` or from pre-token counts gathered beforehand with
 * {@linkcode WordCounts}: repeatedly merge the most frequent adjacent pair (ties: the pair with the
 * smaller ids), updating only the words that contain it. Deterministic: the same counts give the
 * same tokenizer, whatever order the words were counted in.
 *
 * @example
 * ```ts
 * const tok = trainBpe(["the cat sat on the mat"], { vocabSize: 300 });
 * ```
 */
export function trainBpe(
  input: Iterable<string> | WordCounts,
  opts: BpeTrainOptions,
): BpeTokenizer {
  const specials = opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  const minFrequency = Math.max(1, opts.minFrequency ?? 2);
  const targetMerges = opts.vocabSize - 256 - specials.length;
  if (targetMerges < 0) {
    throw new RangeError(
      `Vocabulary size ${opts.vocabSize} is below 256 bytes + ${specials.length} special tokens`,
    );
  }
  let counted = input instanceof WordCounts ? input : undefined;
  if (!counted) {
    counted = new WordCounts({ maxWords: Infinity });
    for (const text of input as Iterable<string>) counted.addText(text);
  }
  const pairs = new PairIndex(counted, opts.vocabSize);
  const tokens: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const merges: [number, number][] = [];
  while (merges.length < targetMerges) {
    const best = pairs.mostFrequent();
    if (!best || best.count < minFrequency) break;
    const { a, b } = best;
    const bytes = new Uint8Array(tokens[a].length + tokens[b].length);
    bytes.set(tokens[a]);
    bytes.set(tokens[b], tokens[a].length);
    pairs.merge(a, b, tokens.length);
    tokens.push(bytes);
    merges.push([a, b]);
  }
  const first = tokens.length;
  return new BpeTokenizer({
    tokens,
    merges,
    specials: specials.map((content, i) => ({ content, id: first + i })),
  });
}

/**
 * Words as symbol sequences, with the count of every adjacent pair and the words each pair occurs
 * in, kept up to date as pairs merge; a lazy max-heap finds the most frequent pair. All symbols
 * live in one array and merge in place, and the word lists are plain arrays that may hold a word
 * twice or a word that lost the pair (a stamp per word skips repeats, a scan skips the rest): no
 * allocation per merged word and no set per pair, with the same merges a set per pair would give.
 */
class PairIndex {
  #symbols: Int32Array;
  #start: Int32Array;
  #length: Int32Array;
  #counts: Float64Array;
  #stride: number;
  #pairCount = new Map<number, number>();
  #where = new Map<number, number[]>();
  #visited: Int32Array;
  #merges = 0;
  #heap = new PairHeap();

  constructor(counted: WordCounts, stride: number) {
    this.#stride = stride;
    const n = counted.size;
    this.#start = new Int32Array(n);
    this.#length = new Int32Array(n);
    this.#counts = new Float64Array(n);
    this.#visited = new Int32Array(n);
    let total = 0;
    for (const [word] of counted.entries()) total += utf8Length(word);
    this.#symbols = new Int32Array(total);
    const encoder = new TextEncoder();
    let scratch = new Uint8Array(256), at = 0, w = 0;
    for (const [word, count] of counted.entries()) {
      if (scratch.length < 3 * word.length) scratch = new Uint8Array(3 * word.length);
      const { written } = encoder.encodeInto(word, scratch);
      this.#symbols.set(scratch.subarray(0, written), at);
      this.#start[w] = at;
      this.#length[w] = written;
      this.#counts[w] = count;
      for (let i = at; i + 1 < at + written; i++) {
        const key = this.#symbols[i] * stride + this.#symbols[i + 1];
        this.#pairCount.set(key, (this.#pairCount.get(key) ?? 0) + count);
        this.#occursIn(key, w);
      }
      at += written;
      w++;
    }
    for (const [key, count] of this.#pairCount) this.#heap.push(count, key);
  }

  /** Takes the most frequent pair (ties: the smaller key) off the heap; undefined when none is left. */
  mostFrequent(): { a: number; b: number; count: number } | undefined {
    while (this.#heap.size > 0) {
      const [count, key] = this.#heap.pop();
      const actual = this.#pairCount.get(key) ?? 0;
      if (actual === count) {
        return { a: Math.floor(key / this.#stride), b: key % this.#stride, count };
      }
      if (actual > 0) this.#heap.push(actual, key);
    }
    return undefined;
  }

  /** Replaces every `a b` with `id` in the words holding it, updating the pair counts. */
  merge(a: number, b: number, id: number): void {
    const stride = this.#stride, key = a * stride + b, stamp = ++this.#merges, sym = this.#symbols;
    const delta = new Map<number, number>();
    const add = (k: number, d: number) => delta.set(k, (delta.get(k) ?? 0) + d);
    for (const w of this.#where.get(key) ?? []) {
      if (this.#visited[w] === stamp) continue;
      this.#visited[w] = stamp;
      const from = this.#start[w], to = from + this.#length[w];
      if (!containsPair(sym, from, to, a, b)) continue;
      const c = this.#counts[w];
      for (let i = from; i + 1 < to; i++) add(sym[i] * stride + sym[i + 1], -c);
      const end = mergeInPlace(sym, from, to, a, b, id);
      this.#length[w] = end - from;
      for (let i = from; i + 1 < end; i++) {
        const k = sym[i] * stride + sym[i + 1];
        add(k, c);
        if (sym[i] === id || sym[i + 1] === id) this.#occursIn(k, w); // only new pairs
      }
    }
    this.#where.delete(key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const next = (this.#pairCount.get(k) ?? 0) + d;
      if (next > 0) this.#pairCount.set(k, next);
      else {
        this.#pairCount.delete(k);
        this.#where.delete(k);
      }
      if (d > 0) this.#heap.push(next, k);
    }
  }

  #occursIn(key: number, w: number): void {
    const list = this.#where.get(key);
    if (!list) this.#where.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  }
}

/**
 * How often each pre-token (GPT-2 pattern) occurs, gathered document by document so that training
 * never needs every document at once. Past `maxWords` distinct words, the rarest are dropped, as
 * word2vec's `ReduceVocab` does: every word seen at most once so far, then at most twice, and so on,
 * until a quarter of the room is free (the next time starting from the last threshold). That bounds memory whatever the corpus size; the merges then
 * come from the frequent words alone, and {@linkcode droppedAtMost} says that it happened.
 *
 * @example
 * ```ts
 * const counts = new WordCounts();
 * for (const doc of docs) counts.addText(doc);
 * const tok = trainBpe(counts, { vocabSize: 8192 });
 * ```
 */
export class WordCounts {
  readonly maxWords: number;
  #counts = new Map<string, number>();
  #dropped = 0;

  constructor(opts: { maxWords?: number } = {}) {
    this.maxWords = opts.maxWords ?? DEFAULT_MAX_WORDS;
  }

  /** Distinct words held. */
  get size(): number {
    return this.#counts.size;
  }

  /** 0 when every word was kept; else words seen at most this many times were dropped. */
  get droppedAtMost(): number {
    return this.#dropped;
  }

  /** Counts the pre-tokens of `text`, straight into the table: no tally to pack and unpack. */
  addText(text: string): void {
    const held = this.#counts;
    for (const word of preTokenize(text)) held.set(word, (held.get(word) ?? 0) + 1);
    if (held.size > this.maxWords) this.#reduce();
  }

  /** Adds counts made elsewhere (e.g. by {@linkcode countWords} on another thread), or takes them away with `sign` -1. */
  add(tally: WordTally, sign: 1 | -1 = 1): void {
    const held = this.#counts, { words, ends, counts } = tally;
    for (let k = 0, start = 0; k < ends.length; start = ends[k++]) {
      const word = words.slice(start, ends[k]);
      const next = (held.get(word) ?? 0) + sign * counts[k];
      if (next > 0) held.set(word, next);
      else held.delete(word);
    }
    if (held.size > this.maxWords) this.#reduce();
  }

  /** The words and their counts. */
  entries(): IterableIterator<[string, number]> {
    return this.#counts.entries();
  }

  #reduce(): void {
    const target = Math.floor(this.maxWords * 0.75);
    // Start from the last threshold: the words that came since and were seen no more often.
    for (let t = Math.max(1, this.#dropped); this.#counts.size > target; t++) {
      for (const [word, n] of this.#counts) if (n <= t) this.#counts.delete(word);
      this.#dropped = t;
    }
  }
}

/** Distinct words a {@linkcode WordCounts} holds by default before dropping the rarest. */
export const DEFAULT_MAX_WORDS = 1 << 19;

/**
 * The distinct pre-tokens of a text and how often each occurs, in order of first appearance, packed
 * to cross between threads cheaply: word `k` is `words.slice(ends[k - 1] ?? 0, ends[k])`.
 */
export interface WordTally {
  words: string;
  ends: Uint32Array;
  counts: Uint32Array;
}

/**
 * Counts the pre-tokens of `text`. Most of them repeat, so they are told apart by where they lie in
 * `text`, in a hash table of their own, and only the first of each is copied out.
 */
export function countWords(text: string): WordTally {
  // Four numbers a word (its first place in `text`, its length, its hash, its count), and a table
  // of word numbers + 1 (0 where free) with two slots a word of room, so never more than half full.
  let entries = new Int32Array(4 * 512), slots = new Int32Array(1024), words = 0;
  for (let i = 0; i < text.length;) {
    const end = preTokenEnd(text, i), length = end - i;
    let hash = 0x811c9dc5; // FNV-1a over the UTF-16 units
    for (let k = i; k < end; k++) hash = Math.imul(hash ^ text.charCodeAt(k), 0x01000193);
    if (4 * words === entries.length) ({ entries, slots } = grown(entries, words));
    const mask = slots.length - 1;
    let slot = hash & mask, w = slots[slot] - 1;
    while (w >= 0 && !isWord(text, entries, w, i, length, hash)) {
      slot = (slot + 1) & mask;
      w = slots[slot] - 1;
    }
    if (w >= 0) entries[4 * w + 3]++;
    else {
      const e = 4 * words++;
      slots[slot] = words;
      entries[e] = i;
      entries[e + 1] = length;
      entries[e + 2] = hash;
      entries[e + 3] = 1;
    }
    i = end;
  }
  const parts = new Array<string>(words), ends = new Uint32Array(words);
  const counts = new Uint32Array(words);
  for (let w = 0, at = 0; w < words; w++) {
    const e = 4 * w;
    parts[w] = text.slice(entries[e], entries[e] + entries[e + 1]);
    ends[w] = at += entries[e + 1];
    counts[w] = entries[e + 3];
  }
  return { words: parts.join(""), ends, counts };
}

/** Whether word `w` of `entries` is the `length` UTF-16 units of `text` at `at`, of hash `hash`. */
function isWord(
  text: string,
  entries: Int32Array,
  w: number,
  at: number,
  length: number,
  hash: number,
): boolean {
  const e = 4 * w, from = entries[e];
  if (entries[e + 2] !== hash || entries[e + 1] !== length) return false;
  for (let k = 0; k < length; k++) {
    if (text.charCodeAt(from + k) !== text.charCodeAt(at + k)) return false;
  }
  return true;
}

/** Room for twice the words: the entries copied, and the table rebuilt from their hashes. */
function grown(
  entries: Int32Array,
  words: number,
): { entries: Int32Array<ArrayBuffer>; slots: Int32Array<ArrayBuffer> } {
  const more = new Int32Array(entries.length * 2), slots = new Int32Array(more.length / 2);
  more.set(entries);
  for (let w = 0, mask = slots.length - 1; w < words; w++) {
    let slot = entries[4 * w + 2] & mask;
    while (slots[slot]) slot = (slot + 1) & mask;
    slots[slot] = w + 1;
  }
  return { entries: more, slots };
}

function containsPair(sym: Int32Array, from: number, to: number, a: number, b: number): boolean {
  for (let i = from; i + 1 < to; i++) if (sym[i] === a && sym[i + 1] === b) return true;
  return false;
}

/** Replaces each `a b` in `sym[from, to)` with `id`, shifting the rest left; returns the new end. */
function mergeInPlace(
  sym: Int32Array,
  from: number,
  to: number,
  a: number,
  b: number,
  id: number,
): number {
  let out = from;
  for (let i = from; i < to; i++) {
    if (i + 1 < to && sym[i] === a && sym[i + 1] === b) {
      sym[out++] = id;
      i++;
    } else {
      sym[out++] = sym[i];
    }
  }
  return out;
}

/** Bytes of `s` in UTF-8 (lone surrogates count as the three bytes of U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
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
