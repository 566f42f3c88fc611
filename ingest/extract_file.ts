import type { ManifestFile } from "../model/data/mod.ts";
import { checkImage } from "./check_image.ts";
import { decodeText } from "./decode_text.ts";
import { type Detected, detectKind } from "./detect_kind.ts";
import type { PageOutcome } from "./extract_pdf.ts";
import { finishDocument } from "./finish_document.ts";
import { rejectText } from "./text_checks.ts";
import type { FileEntry, FileResult, SplitRule } from "./worker_protocol.ts";

/** Largest file read; bigger ones are skipped with a reason. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** What {@linkcode extractFile} needs besides the file. */
export interface ExtractContext {
  /** Pages of a PDF read in this call; the rest come as separate tasks. */
  firstPages: number;
  rule: SplitRule;
  /**
   * Opens a PDF (taking ownership of `bytes`, perhaps keeping it open for the page tasks that
   * follow) and reads its first `pages` pages.
   */
  readPdf: (path: string, bytes: Uint8Array, pages: number) => Promise<FirstPages>;
}

/** A PDF's page count and what its first pages gave. */
export interface FirstPages {
  pages: number;
  truncated: boolean;
  outcomes: PageOutcome[];
}

/**
 * Reads one file and extracts what it can by detected kind: text and code are decoded, checked and
 * cleaned here (code verbatim); an image is checked and handed back for OCR; a PDF gives its page
 * count and its first pages. A bad file comes back as status "skipped" with the reason; whatever
 * throws here is turned into such an entry by the caller.
 */
export async function extractFile(
  path: string,
  relPath: string,
  ctx: ExtractContext,
): Promise<FileResult> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (info.size > MAX_FILE_BYTES) {
      const why = `too large: ${info.size} bytes (limit ${MAX_FILE_BYTES})`;
      return skip(relPath, "binary", info.size, why);
    }
    bytes = await Deno.readFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    return skip(relPath, "unreadable", 0, `unreadable: ${why}`);
  }
  const detected = detectKind(bytes, relPath);
  const size = bytes.length;
  switch (detected.kind) {
    case "empty":
      return skip(relPath, "empty", 0, "empty file (0 bytes)");
    case "binary":
      return skip(relPath, "binary", size, `${detected.what}${hint(relPath)}`);
    case "text":
    case "code":
      return await textFile(bytes, relPath, detected, ctx.rule);
    case "pdf": {
      if ("corrupt" in detected) return skip(relPath, "pdf", size, detected.corrupt);
      const { pages, truncated, outcomes } = await ctx.readPdf(path, bytes, ctx.firstPages);
      const file: FileEntry = { path: relPath, kind: "pdf", bytes: size, pages, status: "ok" };
      return { type: "pdf", file, pages, truncated, outcomes };
    }
    case "image": {
      if ("corrupt" in detected) return skip(relPath, "image", size, detected.corrupt);
      const problem = await checkImage(bytes, detected.format);
      if (problem) return skip(relPath, "image", size, problem);
      const file: FileEntry = { path: relPath, kind: "image", status: "ok", bytes: size };
      return { type: "image", file, image: bytes, format: detected.format.toUpperCase() };
    }
  }
}

async function textFile(
  bytes: Uint8Array,
  relPath: string,
  detected: Detected & { kind: "text" | "code" },
  rule: SplitRule,
): Promise<FileResult> {
  const isCode = detected.kind === "code";
  const { text, encoding, invalidSequences } = decodeText(bytes);
  const file: FileEntry = {
    path: relPath,
    kind: detected.kind,
    status: "ok",
    bytes: bytes.length,
    encoding,
    ...(isCode && detected.language ? { language: detected.language } : {}),
    ...(invalidSequences ? { invalidSequences } : {}),
  };
  const rejected = rejectText(text, relPath, isCode);
  if (rejected) return { type: "done", file: { ...file, status: "skipped", reason: rejected } };
  const notes: string[] = [];
  if (invalidSequences) {
    notes.push(`${invalidSequences} invalid UTF-8 sequence(s) replaced with U+FFFD`);
  }
  if (encoding === "windows-1252") notes.push("not valid UTF-8: read as windows-1252");
  if (notes.length) file.reason = notes.join("; ");
  return { type: "done", file, doc: await finishDocument(text, isCode, rule) };
}

/** A skipped file's entry. */
export function skip(
  path: string,
  kind: ManifestFile["kind"],
  bytes: number,
  reason: string,
): FileResult {
  return { type: "done", file: { path, kind, status: "skipped", reason, bytes } };
}

function hint(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > name.lastIndexOf("/") + 1 ? ` despite the ${name.slice(dot)} extension` : "";
}
