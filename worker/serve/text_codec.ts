import { InputError } from "../../model/errors.ts";

/**
 * What the server needs from a tokenizer. `BpeTokenizer` (model/tokenizer) has this shape; the
 * byte codec below is the one-token-per-byte layout of its `byteTokenizer()` (ids 0-255 are bytes,
 * 256 is `<|endoftext|>`), for random-init models in tests and benchmarks.
 */
export interface TextCodec {
  readonly vocabSize: number;
  /** Id of `<|endoftext|>`: generation ends when the model picks it. */
  readonly endOfTextId: number;
  encode(text: string): number[];
  /** The bytes the ids stand for; concatenated bytes decode to the text. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
}

/** Refuses the first of `ids` that is not below `vocabSize`, naming it `field.index`. */
export function checkTokenIds(ids: readonly number[], vocabSize: number, field: string): void {
  const bad = ids.findIndex((id) => id >= vocabSize);
  if (bad >= 0) {
    throw new InputError(`${field}.${bad}`, `token ${ids[bad]} is not in the vocabulary`);
  }
}

/**
 * One token per UTF-8 byte, then `<|endoftext|>` as 256. A random-init model with a larger
 * vocabulary (the `small` preset's 8192, for benchmarks) can use it too: ids above 256 are unused
 * tokens that stand for no bytes.
 */
export function byteCodec(vocabSize = 257): TextCodec {
  const encoder = new TextEncoder();
  const endOfText = encoder.encode("<|endoftext|>");
  return {
    vocabSize,
    endOfTextId: 256,
    encode: (text) => Array.from(encoder.encode(text)),
    decodeBytes(ids) {
      const parts: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] === 256) parts.push(...endOfText);
        else if (ids[i] >= 0 && ids[i] < 256) parts.push(ids[i]);
        else if (ids[i] >= vocabSize || ids[i] < 0) {
          throw new RangeError(`Token id ${ids[i]} is not in the vocabulary`);
        }
      }
      return Uint8Array.from(parts);
    },
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A token as text, for log-probability listings: itself when its bytes are whole UTF-8, else
 * `bytes:\xNN…` (a byte-level token that holds part of a character).
 */
export function tokenText(codec: TextCodec, id: number): string {
  const bytes = codec.decodeBytes([id]);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return "bytes:" + Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
  }
}
