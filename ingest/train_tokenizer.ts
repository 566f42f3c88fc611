import type { Manifest } from "../model/data/mod.ts";
import type { Logger } from "../model/log.ts";
import { type BpeTokenizer, trainBpe, type WordCounts } from "../model/tokenizer/mod.ts";

/** A trained tokenizer and what the manifest says about its training. */
export interface TrainedTokenizer {
  tokenizer: BpeTokenizer;
  /** Set when rare words were dropped to bound memory. */
  sampled?: NonNullable<Manifest["tokenizer"]["sampled"]>;
}

/**
 * The tokenizer stage: byte-level BPE merges learned from the word counts of the train split.
 * Only counts reach it, never documents, so its memory depends on the vocabulary of the corpus,
 * not on its size.
 */
export function trainTokenizer(
  words: WordCounts,
  vocabSize: number,
  log: Logger,
): TrainedTokenizer {
  const t0 = performance.now();
  const tokenizer = trainBpe(words, { vocabSize });
  const sampled = words.droppedAtMost > 0
    ? { maxWords: words.maxWords, droppedAtMost: words.droppedAtMost }
    : undefined;
  log.info("trained tokenizer", {
    vocabSize: tokenizer.vocabSize,
    requested: vocabSize,
    merges: tokenizer.spec.merges.length,
    distinctWords: words.size,
    ...(sampled ? { sampled } : {}),
    ms: Math.round(performance.now() - t0),
  });
  return { tokenizer, ...(sampled ? { sampled } : {}) };
}
