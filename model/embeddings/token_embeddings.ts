/**
 * The token embedding table of a checkpoint, with its tokenizer: rows by token id, and words turned
 * into vectors. A word the tokenizer splits into several tokens is embedded as the mean of their
 * rows, and the result says so (`pieces.length > 1`), because that mean is our summary, not a vector
 * the model itself ever computes.
 *
 * @example
 * ```ts
 * const table = TokenEmbeddings.fromCheckpoint(await loadCheckpoint("runs/a"));
 * const w = table.word("transformer"); // { ids: [612, 377], pieces: [" transform", "er"], … }
 * ```
 */
import type { ModelFiles } from "../checkpoint/mod.ts";
import { InputError } from "../errors.ts";
import { fromTokenizerJson } from "../tokenizer/mod.ts";

/** The checkpoint tensor that holds the token embedding (and, when tied, the output head). */
export const TOKEN_EMBEDDING = "transformer.wte.weight";

/** What the table needs of a tokenizer: `BpeTokenizer` has it, a server's text codec can. */
export interface TokenCodec {
  encode(text: string): number[];
  /** The text of `ids` (of one token, as a listing shows it). */
  decode(ids: ArrayLike<number>): string;
}

/** A word (or any text) as the table sees it. */
export interface WordVector {
  /** The text as the user gave it. */
  word: string;
  /** The text that was encoded (with the leading space unless `exact`). */
  encoded: string;
  ids: number[];
  /** Each token's text, in order. */
  pieces: string[];
  /** The mean of the tokens' rows, in float64. */
  vector: Float64Array;
}

/** How a word is encoded. */
export interface WordOptions {
  /**
   * Encode the text exactly as given. By default a leading space is added, because in running
   * text most words follow a space and byte-level BPE keeps that space with the word: `" king"` is
   * the common token, `"king"` the start-of-line one.
   */
  exact?: boolean;
}

/** The token embedding matrix with its tokenizer and row norms; build one with `fromCheckpoint`. */
export class TokenEmbeddings {
  readonly vocabSize: number;
  readonly width: number;
  /** Row-major [vocabSize, width]. */
  readonly matrix: Float32Array;
  readonly tokenizer: TokenCodec;
  /** Each row's Euclidean norm, for cosine similarity. */
  readonly norms: Float64Array;

  constructor(matrix: Float32Array, vocabSize: number, width: number, tokenizer: TokenCodec) {
    if (matrix.length !== vocabSize * width) {
      throw new RangeError(
        `Embedding matrix has ${matrix.length} values, not ${vocabSize} × ${width}`,
      );
    }
    this.matrix = matrix;
    this.vocabSize = vocabSize;
    this.width = width;
    this.tokenizer = tokenizer;
    this.norms = new Float64Array(vocabSize);
    for (let i = 0; i < vocabSize; i++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += matrix[i * width + j] ** 2;
      this.norms[i] = Math.sqrt(s);
    }
  }

  /** The table of a loaded checkpoint (`transformer.wte.weight`) and its tokenizer. */
  static fromCheckpoint(ckpt: ModelFiles): TokenEmbeddings {
    const wte = ckpt.tensors.get(TOKEN_EMBEDDING);
    if (!wte || wte.shape.length !== 2) {
      throw new InputError(ckpt.path, `Checkpoint has no 2-D "${TOKEN_EMBEDDING}" tensor`);
    }
    const [rows, width] = wte.shape;
    const where = `${ckpt.path}/tokenizer.json`;
    const tokenizer = fromTokenizerJson(JSON.parse(ckpt.tokenizerJson), where);
    return new TokenEmbeddings(wte.data, rows, width, tokenizer);
  }

  /** Row `id` as a float64 copy. */
  row(id: number): Float64Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`Token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
    return Float64Array.from(this.matrix.subarray(id * this.width, (id + 1) * this.width));
  }

  /** The text of one token (special tokens by their name). */
  tokenText(id: number): string {
    return this.tokenizer.decode([id]);
  }

  /** Encodes `word` and averages its tokens' rows; throws InputError naming the word if empty. */
  word(word: string, options: WordOptions = {}): WordVector {
    const encoded = options.exact || /^\s/.test(word) ? word : ` ${word}`;
    const ids = this.tokenizer.encode(encoded);
    if (ids.length === 0) throw new InputError(`"${word}"`, "Encodes to no tokens");
    const vector = new Float64Array(this.width);
    for (const id of ids) {
      const off = id * this.width;
      for (let j = 0; j < this.width; j++) vector[j] += this.matrix[off + j] / ids.length;
    }
    return { word, encoded, ids, pieces: ids.map((id) => this.tokenText(id)), vector };
  }
}
