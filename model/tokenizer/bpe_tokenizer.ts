import { bytesToTokenString } from "./byte_level.ts";
import { preTokenEnd } from "./pre_tokenize.ts";

/** The special tokens every Denoformer tokenizer carries, in id order after the ordinary tokens. */
export const END_OF_TEXT = "<|endoftext|>";
/** Padding token; never produced by {@linkcode BpeTokenizer.encode} on ordinary text. */
export const PAD = "<|pad|>";
/** Default special tokens, in the order they get ids. */
export const DEFAULT_SPECIAL_TOKENS: readonly string[] = [END_OF_TEXT, PAD];

/** Largest vocabulary the pair keys below can address. */
const MAX_VOCAB = 1 << 20;

/** Everything a byte-level BPE tokenizer is: tokens by id, merges by rank, special tokens. */
export interface BpeSpec {
  /** Bytes of each ordinary token by id; `undefined` at ids taken by special tokens. */
  tokens: readonly (Uint8Array | undefined)[];
  /** Merges in rank order (earliest learned first), as pairs of token ids. */
  merges: readonly (readonly [number, number])[];
  /** Special tokens: their text and id. */
  specials: readonly { content: string; id: number }[];
}

/**
 * A byte-level BPE tokenizer (GPT-2 style): text → UTF-8 bytes → pre-tokens → merges by rank.
 * `decode(encode(x)) === x` for every well-formed string.
 *
 * @example
 * ```ts
 * const tok = byteTokenizer();
 * tok.decode(tok.encode("héllo 👋")); // "héllo 👋"
 * ```
 */
export class BpeTokenizer {
  /** Number of ids, special tokens included. */
  readonly vocabSize: number;
  /** Id of `<|endoftext|>`. */
  readonly endOfTextId: number;
  /** Id of `<|pad|>`, or -1 when the tokenizer has none. */
  readonly padId: number;
  readonly spec: BpeSpec;

  #byteId = new Int32Array(256);
  /** Pair key stride: `a * stride + b` stays a small integer for vocabularies up to 46k. */
  #stride: number;
  #rank = new Map<number, number>();
  #mergedId: Int32Array;
  #tokenBytes: Uint8Array[];
  #specialByContent = new Map<string, number>();
  #specialIds = new Set<number>();
  #specialRe: RegExp | undefined;
  #cache = new Map<string, number[]>();
  #scratch = new Uint8Array(1024);
  #encoder = new TextEncoder();

  constructor(spec: BpeSpec) {
    this.spec = spec;
    this.vocabSize = Math.max(spec.tokens.length, ...spec.specials.map((s) => s.id + 1));
    if (this.vocabSize > MAX_VOCAB) {
      throw new RangeError(`Vocabulary of ${this.vocabSize} tokens is over the limit ${MAX_VOCAB}`);
    }
    this.#stride = this.vocabSize;
    const idOf = new Map<string, number>();
    this.#tokenBytes = new Array(this.vocabSize);
    spec.tokens.forEach((bytes, id) => {
      if (!bytes) return;
      this.#tokenBytes[id] = bytes;
      idOf.set(bytesToTokenString(bytes), id);
    });
    for (let b = 0; b < 256; b++) {
      const id = idOf.get(bytesToTokenString([b]));
      if (id === undefined) throw new RangeError(`Vocabulary lacks the single byte ${b}`);
      this.#byteId[b] = id;
    }
    this.#mergedId = new Int32Array(spec.merges.length);
    spec.merges.forEach(([a, b], rank) => {
      const merged = idOf.get(
        bytesToTokenString(this.#tokenBytes[a]) + bytesToTokenString(this.#tokenBytes[b]),
      );
      if (merged === undefined) throw new RangeError(`Merge ${rank} (${a}, ${b}) has no token`);
      const key = a * this.#stride + b;
      if (!this.#rank.has(key)) this.#rank.set(key, rank);
      this.#mergedId[rank] = merged;
    });
    for (const { content, id } of spec.specials) {
      this.#specialByContent.set(content, id);
      this.#specialIds.add(id);
      this.#tokenBytes[id] = this.#encoder.encode(content);
    }
    this.endOfTextId = this.#specialByContent.get(END_OF_TEXT) ?? -1;
    this.padId = this.#specialByContent.get(PAD) ?? -1;
    if (spec.specials.length > 0) {
      const alternatives = [...this.#specialByContent.keys()]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      this.#specialRe = new RegExp(`(${alternatives.join("|")})`, "u");
    }
  }

  /**
   * Text to ids. Special token text (e.g. `<|endoftext|>`) becomes its special id, as in Hugging Face
   * tokenizers; use {@linkcode encodeOrdinary} for untrusted text.
   */
  encode(text: string): number[] {
    const out: number[] = [];
    if (!this.#specialRe) {
      this.#encodeOrdinaryInto(text, out);
      return out;
    }
    const parts = text.split(this.#specialRe);
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 1) out.push(this.#specialByContent.get(parts[i])!);
      else if (parts[i]) this.#encodeOrdinaryInto(parts[i], out);
    }
    return out;
  }

  /** Text to ids, treating special token text as ordinary text. */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    this.#encodeOrdinaryInto(text, out);
    return out;
  }

  /** Ids to the bytes they stand for (special tokens as their UTF-8 text unless skipped). */
  decodeBytes(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.#bytesOf(ids[i], opts.skipSpecial).length;
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.#bytesOf(ids[i], opts.skipSpecial);
      out.set(bytes, at);
      at += bytes.length;
    }
    return out;
  }

  /** Ids to text; byte sequences that are not valid UTF-8 become U+FFFD. */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    return new TextDecoder().decode(this.decodeBytes(ids, opts));
  }

  /** Whether `id` is a special token. */
  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  #bytesOf(id: number, skipSpecial = false): Uint8Array {
    const bytes = this.#tokenBytes[id];
    if (bytes === undefined) throw new RangeError(`Token id ${id} is not in the vocabulary`);
    if (skipSpecial && this.#specialIds.has(id)) {
      return new Uint8Array(0);
    }
    return bytes;
  }

  #encodeOrdinaryInto(text: string, out: number[]): void {
    const cache = this.#cache;
    for (let at = 0, end = 0; at < text.length; at = end) {
      end = preTokenEnd(text, at);
      const word = text.slice(at, end);
      let ids = cache.get(word);
      if (ids === undefined) {
        ids = this.#encodeWord(word);
        if (word.length < 64) {
          if (cache.size >= 200_000) cache.clear();
          cache.set(word, ids);
        }
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  /** BPE on one pre-token: repeatedly merge the adjacent pair with the lowest rank. */
  #encodeWord(word: string): number[] {
    if (this.#scratch.length < word.length * 3) this.#scratch = new Uint8Array(word.length * 3);
    const n = this.#encoder.encodeInto(word, this.#scratch).written;
    const ids: number[] = new Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.#byteId[this.#scratch[i]];
    const rank = this.#rank;
    const stride = this.#stride;
    while (ids.length > 1) {
      let best = -1;
      for (let i = 0; i < ids.length - 1; i++) {
        const r = rank.get(ids[i] * stride + ids[i + 1]);
        if (r !== undefined && (best < 0 || r < best)) best = r;
      }
      if (best < 0) break;
      const [a, b] = this.spec.merges[best];
      const merged = this.#mergedId[best];
      let w = 0;
      for (let i = 0; i < ids.length; i++) {
        if (i < ids.length - 1 && ids[i] === a && ids[i + 1] === b) {
          ids[w++] = merged;
          i++;
        } else {
          ids[w++] = ids[i];
        }
      }
      ids.length = w;
    }
    return ids;
  }
}

/**
 * The smallest tokenizer: one token per byte (ids 0-255 are the byte values) plus the special
 * tokens, so training can start on plain text without learning merges.
 */
export function byteTokenizer(
  specialTokens: readonly string[] = DEFAULT_SPECIAL_TOKENS,
): BpeTokenizer {
  const tokens = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  return new BpeTokenizer({
    tokens,
    merges: [],
    specials: specialTokens.map((content, i) => ({ content, id: 256 + i })),
  });
}
