/**
 * What the main thread asks of an ingest worker (`ingest_worker.ts`) and what comes back. Every
 * task runs on a worker thread, so extraction, cleaning, hashing, word counting and encoding use
 * every core while the main thread only orders results and writes files.
 */
import type { ManifestFile, ShardDtype } from "../model/data/mod.ts";
import type { WordTally } from "../model/tokenizer/mod.ts";
import type { PageOutcome } from "./extract_pdf.ts";

/** A file's manifest entry before cleaning, deduplication and encoding fill in the rest. */
export type FileEntry = Omit<ManifestFile, "characters" | "tokens" | "split" | "textSha256">;

/** How a worker places a document in a split and whether it counts its words. */
export interface SplitRule {
  seed: number;
  valFraction: number;
  /** Count pre-tokens of train documents for tokenizer training. */
  countWords: boolean;
}

/** A cleaned document, ready to deduplicate and store. */
export interface CleanDoc {
  /** Cleaned text as UTF-8. */
  bytes: Uint8Array;
  /** sha256 of `bytes`, hex. */
  sha256: string;
  /** Code points of cleaned text. */
  characters: number;
  /** Uniform in [0, 1) from the seed and the hash: val when below `valFraction`. */
  u: number;
  /** Pre-token counts, for train documents when a tokenizer is being trained. */
  words?: WordTally;
}

/** Tasks, by `type`. */
export type Task =
  | { type: "file"; path: string; relPath: string; firstPages: number; rule: SplitRule }
  | { type: "pages"; path: string; from: number; to: number }
  | { type: "render"; path: string; page: number }
  | { type: "finish"; text: string; code: boolean; rule: SplitRule }
  | {
    type: "encode";
    spill: string;
    tokenizer: string;
    dtype: ShardDtype;
    /** Documents as [byte offset, byte length] in the spill file, in shard order. */
    ranges: [number, number][];
  };

/** The result of a `file` task. */
export type FileResult =
  /** Read to the end: skipped with a reason, or a text or code document. */
  | { type: "done"; file: FileEntry; doc?: CleanDoc }
  /** An image that passed its structural checks, for the OCR pool. */
  | { type: "image"; file: FileEntry; image: Uint8Array; format: string }
  /** A PDF: its page count and what its first pages gave. */
  | { type: "pdf"; file: FileEntry; pages: number; truncated: boolean; outcomes: PageOutcome[] };

/** The result of an `encode` task: each document's ids and an end-of-text, end to end. */
export interface EncodedBatch {
  tokens: Uint16Array | Uint32Array;
  /** Tokens per document, end-of-text included. */
  lengths: number[];
}

/** Result type of each task type. */
export interface TaskResults {
  file: FileResult;
  pages: PageOutcome[];
  render: Uint8Array;
  finish: CleanDoc;
  encode: EncodedBatch;
}

/** Main → worker. */
export interface TaskMessage {
  id: number;
  task: Task;
}

/**
 * Main → worker, in answer to a {@linkcode PdfiumRequest}: the compiled PDFium to instantiate, or
 * none when compiling failed (the thread then compiles its own and meets the error there).
 */
export interface HelloMessage {
  hello: { pdfium?: WebAssembly.Module };
}

/**
 * Worker → main: this thread needs PDFium. Asked on first need rather than given to every thread
 * up front, since most PDFs never need it (see `pdf_text/`), and compiling it takes a core for a
 * tenth of a second.
 */
export interface PdfiumRequest {
  wantPdfium: true;
}

/** Worker → main: a result, or the message of whatever failed, thrown or rejected. */
export type ReplyMessage = { id: number; result: unknown } | { id: number; error: string };
