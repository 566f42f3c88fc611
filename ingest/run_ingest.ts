import { atomicWriteText } from "../model/atomic_write.ts";
import { concatTokens, type Manifest, type ManifestFile } from "../model/data/mod.ts";
import type { Logger } from "../model/log.ts";
import { Progress } from "../model/progress.ts";
import { sha256Hex } from "../model/sha256.ts";
import {
  type BpeTokenizer,
  loadPretrainedTokenizer,
  saveTokenizer,
  trainBpe,
} from "../model/tokenizer/mod.ts";
import { assignSplits } from "./assign_splits.ts";
import { cleanText } from "./clean_text.ts";
import { type Extracted, extractFile } from "./extract_file.ts";
import { OcrPool } from "./ocr_pool.ts";
import { IngestOptions, type IngestOptionsInput } from "./options.ts";
import { summaryLine } from "./summary_line.ts";
import { walkInputs } from "./walk_inputs.ts";
import { removeStaleShards, writeShards } from "./write_shards.ts";

/** Files read and extracted concurrently. */
const FILES_IN_FLIGHT = 8;

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
 * Ingests files and folders into token shards: walk, extract text by kind, clean, deduplicate,
 * split by document, train (or load) the tokenizer, encode with an end-of-text token after each
 * document, write shards, `tokenizer.json` and `manifest.json` atomically. Bad files are recorded
 * with a reason, never fatal; {@linkcode NoUsableInputError} when no file was usable.
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
  const sizes = await Promise.all(
    entries.map((e) => e.problem ? 0 : Deno.stat(e.path).then((s) => s.size, () => 0)),
  );
  const totalMb = sizes.reduce((a, b) => a + b, 0) / 1e6;
  const bar = new Progress({
    label: "ingest",
    total: totalMb,
    unit: "MB",
    ...(deps.progressTty !== undefined ? { tty: deps.progressTty } : {}),
    ...(deps.progressWrite ? { write: deps.progressWrite } : {}),
  });
  const ocr = new OcrPool(opts.ocrWorkers);
  let extracted: Extracted[];
  try {
    let doneFiles = 0;
    const tick = (i: number) => bar.tick(sizes[i] / 1e6, `files ${++doneFiles}/${entries.length}`);
    // A few files in flight at once, so OCR (in its worker pool) overlaps with everything else,
    // without opening every file of a large corpus at the same time.
    extracted = await mapLimited(entries, FILES_IN_FLIGHT, async (e, i) => {
      const result: Extracted = e.problem
        ? {
          file: {
            path: e.relPath,
            kind: "unreadable",
            status: "skipped",
            reason: e.problem,
            bytes: 0,
          },
        }
        : await extractFile(e.path, e.relPath, ocr);
      tick(i);
      return result;
    });
  } finally {
    await ocr.close();
  }
  bar.done();

  // Clean and deduplicate in walk order, so the first copy of a text wins deterministically.
  const files: ManifestFile[] = [];
  const docs: { index: number; text: string; hash: string }[] = [];
  const seen = new Map<string, string>();
  for (const { file, text } of extracted) {
    const entry: ManifestFile = { ...file, characters: 0, tokens: 0 };
    files.push(entry);
    if (text === undefined || entry.status !== "ok") continue;
    const cleaned = cleanText(text, { code: entry.kind === "code" });
    entry.characters = countCodePoints(cleaned);
    if (!cleaned) {
      Object.assign(entry, { status: "skipped", reason: "no text after cleaning" });
      continue;
    }
    const hash = await sha256Hex(new TextEncoder().encode(cleaned));
    entry.textSha256 = hash;
    const first = seen.get(hash);
    if (first !== undefined) {
      Object.assign(entry, { status: "skipped", reason: `duplicate of "${first}"` });
      continue;
    }
    seen.set(hash, entry.path);
    docs.push({ index: files.length - 1, text: cleaned, hash });
  }
  for (const f of files) {
    if (f.status === "skipped") log.warn("skipped", { path: f.path, reason: f.reason });
  }
  if (docs.length === 0) throw new NoUsableInputError(files);

  if (opts.dumpText) {
    for (const d of docs) {
      const path = `${opts.dumpText}/${files[d.index].path}.txt`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await atomicWriteText(path, d.text + "\n");
    }
  }

  const splits = assignSplits(docs.map((d) => d.hash), opts.valFraction, opts.seed);
  docs.forEach((d, i) => (files[d.index].split = splits[i].split));
  // Seeded document order within each split: sorted by the same hash that chose the split.
  const order = docs.map((_, i) => i).sort((a, b) =>
    splits[a].u - splits[b].u || docs[a].hash.localeCompare(docs[b].hash)
  );

  const tokenizer: BpeTokenizer = opts.tokenizer
    ? await loadPretrainedTokenizer(opts.tokenizer)
    : trainTokenizer(
      order.filter((i) => splits[i].split === "train").map((i) => docs[i].text),
      opts.vocabSize,
      log,
    );

  await Deno.mkdir(opts.out, { recursive: true });
  const tokenizerPath = `${opts.out}/tokenizer.json`;
  await saveTokenizer(tokenizerPath, tokenizer);
  const dtype = tokenizer.vocabSize <= 65536 ? "uint16" : "uint32";
  const eot = tokenizer.endOfTextId;
  if (eot < 0) throw new RangeError(`Tokenizer has no "<|endoftext|>" token`);

  const perSplit: Record<"train" | "val", number[][]> = { train: [], val: [] };
  for (const i of order) {
    const ids = tokenizer.encodeOrdinary(docs[i].text);
    ids.push(eot);
    files[docs[i].index].tokens = ids.length;
    perSplit[splits[i].split].push(ids);
  }
  const shards = [];
  const totals = { train: 0, val: 0 };
  for (const split of ["train", "val"] as const) {
    const tokens = concatTokens(perSplit[split], dtype);
    totals[split] = tokens.length;
    shards.push(...await writeShards(opts.out, split, tokens, opts.shardTokens));
  }
  await removeStaleShards(opts.out, new Set(shards.map((s) => s.file)));

  const manifest: Manifest = {
    format: "denoformer-shards/1",
    dtype,
    shardTokens: opts.shardTokens,
    seed: opts.seed,
    valFraction: opts.valFraction,
    tokenizer: {
      file: "tokenizer.json",
      sha256: await sha256Hex(await Deno.readFile(tokenizerPath)),
      vocabSize: tokenizer.vocabSize,
      endOfTextId: eot,
    },
    totals,
    files,
    shards,
  };
  await atomicWriteText(`${opts.out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  const seconds = (now() - started) / 1000;
  return { manifest, seconds, summary: summaryLine(manifest, seconds) };
}

function trainTokenizer(texts: string[], vocabSize: number, log: Logger): BpeTokenizer {
  const t0 = performance.now();
  const tok = trainBpe(texts, { vocabSize });
  log.info("trained tokenizer", {
    vocabSize: tok.vocabSize,
    requested: vocabSize,
    merges: tok.spec.merges.length,
    ms: Math.round(performance.now() - t0),
  });
  return tok;
}

/** Runs `fn` over `items` with at most `limit` calls pending; results keep the input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return out;
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
