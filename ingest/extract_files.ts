import type { ManifestFile } from "../model/data/mod.ts";
import { detectKind } from "./detect_kind.ts";
import type { PageOutcome } from "./extract_pdf.ts";
import { MIN_CONFIDENCE, type OcrPool } from "./ocr_pool.ts";
import { orderedWindow } from "./ordered_window.ts";
import type { Semaphore } from "./semaphore.ts";
import type { WalkEntry } from "./walk_inputs.ts";
import type { CleanDoc, FileEntry, FileResult, SplitRule } from "./worker_protocol.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** PDF pages per task: enough to amortise a task, few enough to spread one PDF over every core. */
const PAGES_PER_TASK = 32;
/** Bytes of input files started but not yet consumed; one file is always let through. */
const BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** A file extracted, OCRed and cleaned: its manifest entry so far and its document, if any. */
export interface Extracted {
  file: FileEntry;
  doc?: CleanDoc;
}

/** Counts for the progress line, updated as pages are read. */
export interface ExtractStats {
  /** PDF pages and images seen. */
  pages: number;
  /** Of those, read by OCR. */
  ocrPages: number;
}

/** What {@linkcode extractFiles} works with. */
export interface ExtractDeps {
  pool: WorkerPool;
  ocr: OcrPool;
  rule: SplitRule;
  stats: ExtractStats;
  /** Size of each entry in bytes (0 when unknown), to bound the bytes in flight. */
  sizes: readonly number[];
  /** Pages rendered and not yet OCRed: one more than the OCR pool runs at once. */
  renderSlots: Semaphore;
}

/**
 * Extracts every walk entry on the worker pool, several files at once (at most four per worker
 * and {@linkcode BYTES_IN_FLIGHT} of input), and yields them in walk order, so that deduplication
 * is deterministic and memory stays bounded. A failure anywhere (a library throwing or rejecting,
 * a worker thread dying or hanging, OCR failing) skips that file with the reason and nothing else.
 */
export function extractFiles(
  entries: readonly WalkEntry[],
  deps: ExtractDeps,
): AsyncGenerator<Extracted> {
  return orderedWindow(entries.length, (i) => extractOne(entries[i], i, deps), {
    window: 4 * deps.pool.size,
    bytesOf: (i) => deps.sizes[i] ?? 0,
    maxBytes: BYTES_IN_FLIGHT,
  });
}

async function extractOne(entry: WalkEntry, index: number, deps: ExtractDeps): Promise<Extracted> {
  if (entry.problem) {
    const file: FileEntry = {
      path: entry.relPath,
      kind: "unreadable",
      status: "skipped",
      reason: entry.problem,
      bytes: 0,
    };
    return { file };
  }
  try {
    const task = { path: entry.path, relPath: entry.relPath, firstPages: PAGES_PER_TASK };
    const first = await deps.pool.run({ type: "file", ...task, rule: deps.rule }, index, {
      affinity: entry.path,
    });
    if (first.type === "done") return { file: first.file, doc: first.doc };
    if (first.type === "image") return await readImage(first, index, deps);
    return await readPdf(entry.path, first, index, deps);
  } catch (err) {
    return { file: await failedEntry(entry, err as Error) };
  }
}

async function readImage(
  first: FileResult & { type: "image" },
  index: number,
  deps: ExtractDeps,
): Promise<Extracted> {
  deps.stats.pages++;
  deps.stats.ocrPages++;
  const { file } = first;
  let ocr;
  try {
    ocr = await deps.ocr.recognize(first.image);
  } catch (err) {
    const reason = `unreadable ${first.format}: ${message(err)}`;
    return { file: { ...file, status: "skipped", reason } };
  }
  if (!usableOcr(ocr.text, ocr.confidence)) {
    const reason = `no text found by OCR (confidence ${Math.round(ocr.confidence)})`;
    return { file: { ...file, status: "skipped", reason } };
  }
  const doc = await deps.pool.run(
    { type: "finish", text: ocr.text, code: false, rule: deps.rule },
    index,
  );
  return { file, doc };
}

/**
 * Reads the rest of a PDF's pages on the pool, OCRs the pages that asked for it (rendering at
 * most one page more than the OCR pool can take at once), joins the pages with blank lines and
 * cleans the text. The manifest entry names the OCRed pages.
 */
async function readPdf(
  path: string,
  first: FileResult & { type: "pdf" },
  index: number,
  deps: ExtractDeps,
): Promise<Extracted> {
  const { pages } = first;
  const chunks: Promise<PageOutcome[]>[] = [];
  for (let from = first.outcomes.length + 1; from <= pages; from += PAGES_PER_TASK) {
    const to = Math.min(pages, from + PAGES_PER_TASK - 1);
    chunks.push(deps.pool.run({ type: "pages", path, from, to }, index, { affinity: path }));
  }
  const outcomes = [...first.outcomes, ...(await Promise.all(chunks)).flat()];
  deps.stats.pages += pages;
  const texts = outcomes.map((o) => "text" in o ? o.text : "");
  const ocrPages = outcomes.flatMap((o, i) => "ocr" in o ? [i + 1] : []);
  let failed = outcomes.filter((o) => "failed" in o).length;
  await Promise.all(ocrPages.map(async (p) => {
    try {
      texts[p - 1] = await ocrPage(path, p, index, deps);
    } catch {
      failed++;
    }
  }));
  const note = pdfNote(first.truncated, failed);
  const file: FileEntry = {
    ...first.file,
    ...(note ? { reason: note } : {}),
    ...(ocrPages.length ? { ocrPages: pageRanges(ocrPages) } : {}),
  };
  if (texts.every((t) => !t.trim())) {
    const why = ocrPages.length
      ? `no text on any of ${pages} page(s), ${ocrPages.length} read by OCR`
      : `no text layer on any of ${pages} page(s)`;
    return { file: { ...file, status: "skipped", reason: note ? `${note}; ${why}` : why } };
  }
  const text = texts.join("\n\n");
  return {
    file,
    doc: await deps.pool.run({ type: "finish", text, code: false, rule: deps.rule }, index),
  };
}

/** Renders one page on the pool and OCRs it; "" when OCR finds nothing readable. */
async function ocrPage(path: string, page: number, index: number, deps: ExtractDeps) {
  const release = await deps.renderSlots.acquire();
  try {
    const image = await deps.pool.run({ type: "render", path, page }, index, { affinity: path });
    const { text, confidence } = await deps.ocr.recognize(image);
    deps.stats.ocrPages++;
    return usableOcr(text, confidence) ? text : "";
  } finally {
    release();
  }
}

/** A note for the manifest on what could not be read, or undefined. */
function pdfNote(truncated: boolean, failedPages: number): string | undefined {
  const notes: string[] = [];
  if (truncated) notes.push("truncated PDF (no %%EOF marker): text recovered where possible");
  if (failedPages > 0) notes.push(`${failedPages} page(s) could not be parsed`);
  return notes.length ? notes.join("; ") : undefined;
}

function usableOcr(text: string, confidence: number): boolean {
  return confidence >= MIN_CONFIDENCE && (text.match(/[\p{L}\p{N}]/gu) ?? []).length >= 3;
}

/** "1-3,7" for [1, 2, 3, 7]. */
function pageRanges(pages: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < pages.length;) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
    parts.push(i === j ? `${pages[i]}` : `${pages[i]}-${pages[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** The entry of a file whose extraction failed, its kind read from the file's first bytes. */
async function failedEntry(entry: WalkEntry, err: Error): Promise<FileEntry> {
  let kind: ManifestFile["kind"] = "unreadable", bytes = 0;
  try {
    const file = await Deno.open(entry.path);
    try {
      bytes = (await file.stat()).size;
      const head = new Uint8Array(Math.min(bytes, 65536));
      await file.read(head);
      kind = detectKind(head, entry.relPath).kind;
    } finally {
      file.close();
    }
  } catch {
    // the kind stays "unreadable"
  }
  const why = message(err);
  const reason = kind === "pdf"
    ? (/^(corrupt|truncated|encrypted) PDF/.test(why) ? why : `corrupt PDF: ${why}`)
    : `extraction failed: ${why}`;
  return { path: entry.relPath, kind, status: "skipped", reason, bytes };
}

function message(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
