import type { Manifest } from "../model/data/mod.ts";
import type { Logger } from "../model/log.ts";
import {
  type BpeTokenizer,
  loadPretrainedTokenizer,
  trainBpe,
  type WordCounts,
} from "../model/tokenizer/mod.ts";

/** The run's tokenizer and what the manifest says about its training. */
export interface StageTokenizer {
  tokenizer: BpeTokenizer;
  /** Set when training dropped rare words to bound memory. */
  sampled?: NonNullable<Manifest["tokenizer"]["sampled"]>;
}

/**
 * The tokenizer stage: a pretrained tokenizer given with `--tokenizer` (a tokenizer.json, or a model
 * directory with tokenizer.json or vocab.json + merges.txt), or byte-level BPE merges
 * learned from the word counts of the train split. Only counts reach it, never documents, so its
 * memory depends on the vocabulary of the corpus (capped by the counts), not on its size.
 */
export async function tokenizerStage(
  opts: { tokenizer?: string; vocabSize: number },
  words: WordCounts | undefined,
  log: Logger,
): Promise<StageTokenizer> {
  if (opts.tokenizer) return { tokenizer: await loadPretrainedTokenizer(opts.tokenizer) };
  if (!words) throw new RangeError("Tokenizer training needs word counts");
  const t0 = performance.now();
  const tokenizer = trainBpe(words, { vocabSize: opts.vocabSize });
  const sampled = words.droppedAtMost > 0
    ? { maxWords: words.maxWords, droppedAtMost: words.droppedAtMost }
    : undefined;
  log.info("trained tokenizer", {
    vocabSize: tokenizer.vocabSize,
    requested: opts.vocabSize,
    merges: tokenizer.spec.merges.length,
    distinctWords: words.size,
    ...(sampled ? { sampled } : {}),
    ms: Math.round(performance.now() - t0),
  });
  return { tokenizer, ...(sampled ? { sampled } : {}) };
}
