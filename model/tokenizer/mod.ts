/**
 * Byte-level BPE tokenizer (GPT-2 style): training, encoding, decoding, and Hugging Face
 * `tokenizer.json` files. Used by ingest, the trainer and the inference server.
 *
 * @example
 * ```ts
 * import { loadTokenizer, saveTokenizer, trainBpe } from "../model/tokenizer/mod.ts";
 * const tok = trainBpe(texts, { vocabSize: 8192 });
 * await saveTokenizer("runs/a/tokenizer.json", tok);
 * const same = await loadTokenizer("runs/a/tokenizer.json");
 * same.decode(same.encode("hello")); // "hello"
 * ```
 */
export {
  BpeTokenizer,
  byteTokenizer,
  DEFAULT_SPECIAL_TOKENS,
  END_OF_TEXT,
  PAD,
} from "./bpe_tokenizer.ts";
export type { BpeSpec } from "./bpe_tokenizer.ts";
export { countWords, DEFAULT_MAX_WORDS, trainBpe, WordCounts } from "./bpe_trainer.ts";
export type { BpeTrainOptions, WordTally } from "./bpe_trainer.ts";
export {
  fromTokenizerJson,
  loadTokenizer,
  saveTokenizer,
  TokenizerJson,
  toTokenizerJson,
} from "./tokenizer_json.ts";
export { loadPretrainedTokenizer } from "./pretrained_tokenizer.ts";
export { preTokenize } from "./pre_tokenize.ts";
export { byteToUnicode, unicodeToByte } from "./byte_level.ts";
