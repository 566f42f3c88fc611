import { z } from "zod";
import { DEFAULT_MAX_WORDS } from "../model/tokenizer/mod.ts";

/** Everything an ingest run needs; the CLI validates its flags into this. */
export const IngestOptions = z.object({
  /** Output folder for shards, `tokenizer.json` and `manifest.json`. */
  out: z.string().min(1),
  /** Files and folders to ingest. */
  inputs: z.array(z.string().min(1)).min(1, "Give at least one input PATH"),
  /** Vocabulary size of the BPE tokenizer trained on the train split (bytes and specials included). */
  vocabSize: z.number().int().min(258).max(1 << 20).default(8192),
  /** Fraction of documents held out for validation, chosen by a seeded hash of their text. */
  valFraction: z.number().min(0).max(1).default(0.05),
  seed: z.number().int().default(0),
  /** Where to write each file's extracted text, as `<relative path>.txt`. */
  dumpText: z.string().optional(),
  /**
   * An existing tokenizer to encode with instead of training one (a pretrained model's, so the ids
   * match it): a tokenizer.json, or a directory holding tokenizer.json or vocab.json + merges.txt.
   */
  tokenizer: z.string().optional(),
  /** Tokens per shard file. */
  shardTokens: z.number().int().positive().default(1 << 20),
  /** OCR workers; one per core by default. */
  ocrWorkers: z.number().int().positive().optional(),
  /** Threads that extract, clean and encode; one per core by default. */
  workers: z.number().int().positive().optional(),
  /**
   * Distinct words tokenizer training holds; past it the rarest are dropped (and the manifest
   * says so), which bounds memory whatever the corpus size.
   */
  maxTrainingWords: z.number().int().positive().default(DEFAULT_MAX_WORDS),
}).strict();
export type IngestOptions = z.infer<typeof IngestOptions>;
export type IngestOptionsInput = z.input<typeof IngestOptions>;
