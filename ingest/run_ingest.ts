import { atomicWriteText } from "../model/atomic_write.ts";
import type { Manifest, ManifestFile } from "../model/data/mod.ts";
import type { Logger } from "../model/log.ts";
import { Progress } from "../model/progress.ts";
import { sha256Hex } from "../model/sha256.ts";
import { countWords, saveTokenizer, WordCounts } from "../model/tokenizer/mod.ts";
import { balanceSplits, type Split, splitOf } from "./assign_splits.ts";
import { collectDocuments, type Collected, type DocRef } from "./collect_documents.ts";
import { encodeShards } from "./encode_shards.ts";
import { extractFiles, type ExtractStats } from "./extract_files.ts";
import { OcrPool } from "./ocr_pool.ts";
import { compilePdfium } from "./pdfium.ts";
import { IngestOptions, type IngestOptionsInput } from "./options.ts";
import { Semaphore } from "./semaphore.ts";
import { removeStaleShards } from "./shard_writer.ts";
import { readAt, SpillFile } from "./spill_file.ts";
import { summaryLine } from "./summary_line.ts";
import { tokenizerStage } from "./tokenizer_stage.ts";
import { walkInputs } from "./walk_inputs.ts";
import { WorkerPool } from "./worker_pool.ts";

/** None of the inputs gave usable text; the run wrote nothing. */
export class NoUsableInputError extends Error {
  readonly files: ManifestFile[];
  constructor(files: ManifestFile[]) {
    const reasons = [...new Set(files.map((f) => f.reason ?? "no text"))].slice(0, 5);
    super(
      files.length === 0
        ? "No input files found"
        : `No usable inputs: all ${files.length} file(s) were skipped (${reasons.join("; ")})`,
    );
    this.name = "NoUsableInputError";
    this.files = files;
  }
}

/** What a run produced. */
export interface IngestResult {
  manifest: Manifest;
  /** Wall time in seconds. */
  seconds: number;
  /** Wall time of each stage in seconds; `extract` includes the walk, OCR, cleaning, dedupe. */
  stages: { extract: number; tokenizer: number; encode: number };
  /** PDF pages and images read, and how many of them by OCR. */
  pages: ExtractStats;
  /** The one-line summary. */
  summary: string;
}

/** Collaborators passed in so tests can drive them. */
export interface IngestDeps {
  log: Logger;
  /** Progress bar writer; defaults to stderr (a redrawn bar on a TTY). */
  progressWrite?: (text: string) => void;
  progressTty?: boolean;
  now?: () => number;
}

/**
 * Ingests files and folders into token shards, in stages: walk; extract text by kind on worker
 * threads (PDF pages in parallel, OCR for scanned pages and images), clean, deduplicate, and spill
 * the kept text to disk; split by document; train (or load) the tokenizer from word counts; encode
 * with an end-of-text token after each document and write shards as they fill; write
 * `tokenizer.json` and `manifest.json` atomically. Memory stays bounded whatever the corpus size.
 * Bad files are recorded with a reason, never fatal; {@linkcode NoUsableInputError} when no file
 * was usable.
 *
 * @example
 * ```ts
 * const { manifest, summary } = await runIngest({ out: "runs/data", inputs: ["corpus"] }, { log });
 * ```
 */
export async function runIngest(
  input: IngestOptionsInput,
  deps: IngestDeps,
): Promise<IngestResult> {
  const opts = IngestOptions.parse(input);
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const log = deps.log.child({ component: "ingest" });
  const entries = await walkInputs(opts.inputs, {
    excludeDirs: [opts.out, ...(opts.dumpText ? [opts.dumpText] : [])],
  });
  const outExisted = await Deno.stat(opts.out).then(() => true, () => false);
  await Deno.mkdir(opts.out, { recursive: true });
  const spill = await SpillFile.create(opts.out);
  const stats: ExtractStats = { pages: 0, ocrPages: 0 };
  try {
    let words = opts.tokenizer ? undefined : new WordCounts({ maxWords: opts.maxTrainingWords });
    const collected = await extract(entries, opts, { spill, words, stats }, deps);
    for (const f of collected.files) {
      if (f.status === "skipped") log.warn("skipped", { path: f.path, reason: f.reason });
    }
    if (collected.docs.length === 0) throw new NoUsableInputError(collected.files);
    const extracted = now();
    const order = await split(collected, opts, spill, words);
    const { tokenizer, sampled } = await tokenizerStage(opts, words, log);
    words = undefined; // the counts can go before encoding starts
    const tokenizerPath = `${opts.out}/tokenizer.json`;
    await saveTokenizer(tokenizerPath, tokenizer);
    if (tokenizer.endOfTextId < 0) throw new RangeError(`Tokenizer has no "<|endoftext|>" token`);
    const dtype = tokenizer.vocabSize <= 65536 ? "uint16" : "uint32";
    // The shards of an earlier run are overwritten from here on: its manifest no longer holds.
    await Deno.remove(`${opts.out}/manifest.json`).catch(() => {});
    const tokenized = now();
    const bar = progress(deps, "encode", spill.size / 1e6);
    const { shards, totals } = await encodeShards(order, collected.files, {
      workers: opts.workers,
      spill: spill.path,
      tokenizer: tokenizerPath,
      dtype,
      out: opts.out,
      shardTokens: opts.shardTokens,
      onBatch: (bytes) => bar.tick(bytes / 1e6),
    });
    bar.done();
    await removeStaleShards(opts.out, new Set(shards.map((s) => s.file)));
    const manifest = await writeManifest(opts, {
      dtype,
      tokenizer: {
        path: tokenizerPath,
        vocabSize: tokenizer.vocabSize,
        endOfTextId: tokenizer.endOfTextId,
        sampled,
      },
      totals,
      files: collected.files,
      shards,
    });
    const end = now(), sec = (ms: number) => ms / 1000;
    const stages = {
      extract: sec(extracted - started),
      tokenizer: sec(tokenized - extracted),
      encode: sec(end - tokenized),
    };
    const seconds = sec(end - started);
    const summary = summaryLine(manifest, seconds, stages);
    return { manifest, seconds, stages, pages: stats, summary };
  } finally {
    await spill.remove();
    // A folder this run made and left empty (no usable input) goes too; a non-empty one stays.
    if (!outExisted) await Deno.remove(opts.out).catch(() => {});
  }
}

/**
 * The extract stage: every file through the worker pool and the OCR pool, then deduplicated and
 * stored in walk order, with a progress bar of bytes and files, and the share of pages read by OCR.
 */
async function extract(
  entries: Awaited<ReturnType<typeof walkInputs>>,
  opts: IngestOptions,
  sinks: {
    spill: SpillFile;
    words?: WordCounts;
    stats: ExtractStats;
  },
  deps: IngestDeps,
): Promise<Collected> {
  const sizes = await Promise.all(
    entries.map((e) => e.problem ? 0 : Deno.stat(e.path).then((s) => s.size, () => 0)),
  );
  const bar = progress(deps, "extract", sizes.reduce((a, b) => a + b, 0) / 1e6);
  // Threads of their own, gone when extraction ends: their heaps (PDFium, tesseract) with them.
  const pool = new WorkerPool({
    size: opts.workers,
    pdfium: compilePdfium,
  });
  const ocr = new OcrPool(opts.ocrWorkers);
  const stats = sinks.stats;
  const rule = { seed: opts.seed, valFraction: opts.valFraction, countWords: !!sinks.words };
  let done = 0;
  try {
    const extracted = extractFiles(entries, {
      pool,
      ocr,
      rule,
      stats,
      sizes,
      renderSlots: new Semaphore(ocr.size + 1),
    });
    return await collectDocuments(extracted, {
      spill: sinks.spill,
      words: sinks.words,
      dumpText: opts.dumpText,
      onFile: (bytes) => {
        const ocrShare = stats.ocrPages ? `  ocr ${stats.ocrPages}/${stats.pages} pages` : "";
        bar.tick(bytes / 1e6, `files ${++done}/${entries.length}${ocrShare}`);
      },
    });
  } finally {
    pool.close();
    await ocr.close();
    bar.done();
  }
}

/**
 * The split stage: each document's split from its split point, at least one document in each split
 * (moving a document's word counts with it), and each split ordered by split point, then hash.
 */
async function split(
  collected: Collected,
  opts: IngestOptions,
  spill: SpillFile,
  words: WordCounts | undefined,
): Promise<Record<Split, DocRef[]>> {
  const splits = collected.docs.map((d) => splitOf(d.u, opts.valFraction));
  const move = balanceSplits(collected.docs.map((d) => d.u), opts.valFraction);
  if (move) {
    splits[move.index] = move.to;
    if (words) {
      const d = collected.docs[move.index];
      const file = await Deno.open(spill.path);
      const text = new TextDecoder().decode(await readAt(file, d.offset, d.length));
      file.close();
      words.add(countWords(text), move.to === "train" ? 1 : -1);
    }
  }
  const order: Record<Split, DocRef[]> = { train: [], val: [] };
  collected.docs.forEach((d, i) => {
    collected.files[d.file].split = splits[i];
    order[splits[i]].push(d);
  });
  for (const docs of Object.values(order)) {
    docs.sort((a, b) => a.u - b.u || a.sha256.localeCompare(b.sha256));
  }
  return order;
}

/** Writes `manifest.json` atomically, last, once everything it names is on disk. */
async function writeManifest(
  opts: IngestOptions,
  run: Pick<Manifest, "dtype" | "totals" | "files" | "shards"> & {
    tokenizer: Pick<Manifest["tokenizer"], "vocabSize" | "endOfTextId" | "sampled"> & {
      path: string;
    };
  },
): Promise<Manifest> {
  const { path, vocabSize, endOfTextId, sampled } = run.tokenizer;
  const manifest: Manifest = {
    format: "denoformer-shards/1",
    dtype: run.dtype,
    shardTokens: opts.shardTokens,
    seed: opts.seed,
    valFraction: opts.valFraction,
    tokenizer: {
      file: "tokenizer.json",
      sha256: await sha256Hex(await Deno.readFile(path)),
      vocabSize,
      endOfTextId,
      ...(sampled ? { sampled } : {}),
    },
    totals: run.totals,
    files: run.files,
    shards: run.shards,
  };
  await atomicWriteText(`${opts.out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function progress(deps: IngestDeps, label: string, totalMb: number): Progress {
  return new Progress({
    label,
    total: totalMb,
    unit: "MB",
    ...(deps.progressTty !== undefined ? { tty: deps.progressTty } : {}),
    ...(deps.progressWrite ? { write: deps.progressWrite } : {}),
  });
}
