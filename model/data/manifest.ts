import { z } from "zod";

/** What kind of content a file held, detected from its bytes. */
export const FileKind = z.enum(["text", "code", "pdf", "image", "binary", "empty", "unreadable"]);
export type FileKind = z.infer<typeof FileKind>;

/** One input file: what it was, whether it was used, and why not. */
export const ManifestFile = z.object({
  /** Path relative to the input it was found under (with the input's name when several). */
  path: z.string(),
  kind: FileKind,
  status: z.enum(["ok", "skipped"]),
  /** Why a file was skipped, or what was repaired in a file that was kept. */
  reason: z.string().optional(),
  /** Programming language, for code. */
  language: z.string().optional(),
  /** Text encoding the bytes were read as, for text and code. */
  encoding: z.string().optional(),
  /** Invalid UTF-8 sequences replaced by U+FFFD. */
  invalidSequences: z.number().int().nonnegative().optional(),
  /** Pages, for PDFs. */
  pages: z.number().int().nonnegative().optional(),
  /** PDF pages read by OCR (no text layer, or a few letters over a page-sized image), e.g. "1-3,7". */
  ocrPages: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/).optional(),
  bytes: z.number().int().nonnegative(),
  /** Characters (code points) of cleaned text. */
  characters: z.number().int().nonnegative(),
  /** Tokens, end-of-text included. */
  tokens: z.number().int().nonnegative(),
  split: z.enum(["train", "val"]).optional(),
  /** sha256 of the cleaned text, used for deduplication. */
  textSha256: z.string().optional(),
}).strict();
export type ManifestFile = z.infer<typeof ManifestFile>;

/** One fixed-size binary file of little-endian token ids. */
export const ManifestShard = z.object({
  file: z.string().regex(/^(train|val)_\d{5}\.bin$/),
  split: z.enum(["train", "val"]),
  tokens: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}).strict();
export type ManifestShard = z.infer<typeof ManifestShard>;

/**
 * `DIR/manifest.json`: the token shards an ingest run produced and everything that went into them.
 * It holds no timestamps, so the same inputs give a byte-identical manifest.
 */
export const Manifest = z.object({
  format: z.literal("denoformer-shards/1"),
  /** Element type of every shard: uint16 when the vocabulary fits, else uint32. */
  dtype: z.enum(["uint16", "uint32"]),
  /** Tokens per shard; the last shard of each split may be shorter. */
  shardTokens: z.number().int().positive(),
  seed: z.number().int(),
  valFraction: z.number().min(0).max(1),
  tokenizer: z.object({
    file: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    vocabSize: z.number().int().positive(),
    endOfTextId: z.number().int().nonnegative(),
    /**
     * Present when training held more distinct words than `maxWords` and dropped the rarest:
     * words seen at most `droppedAtMost` times in the documents counted so far at that point.
     */
    sampled: z.object({
      maxWords: z.number().int().positive(),
      droppedAtMost: z.number().int().positive(),
    }).strict().optional(),
  }).strict(),
  totals: z.object({
    train: z.number().int().nonnegative(),
    val: z.number().int().nonnegative(),
  }).strict(),
  files: z.array(ManifestFile),
  shards: z.array(ManifestShard),
}).strict();
export type Manifest = z.infer<typeof Manifest>;

/** Split names. */
export type Split = "train" | "val";
