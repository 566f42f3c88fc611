import type { ManifestFile } from "../model/data/mod.ts";
import { checkImage } from "./check_image.ts";
import { decodeText } from "./decode_text.ts";
import { detectKind } from "./detect_kind.ts";
import { extractPdf, PdfError } from "./extract_pdf.ts";
import { MIN_CONFIDENCE, type OcrPool } from "./ocr_pool.ts";
import { rejectText } from "./text_checks.ts";

/** Largest file read; bigger ones are skipped with a reason. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

/** A file's manifest entry so far (before cleaning and tokens) and its raw extracted text. */
export interface Extracted {
  file: Omit<ManifestFile, "characters" | "tokens">;
  /** Raw text, present when the file is usable so far. */
  text?: string;
}

/**
 * Reads one file and extracts its text by detected kind: text and code decoded (code verbatim),
 * PDFs through pdf.js, images through OCR. Never throws for a bad file: the reason goes in the
 * returned entry with status "skipped".
 */
export async function extractFile(path: string, relPath: string, ocr: OcrPool): Promise<Extracted> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (info.size > MAX_FILE_BYTES) {
      return skip(
        relPath,
        "binary",
        info.size,
        `too large: ${info.size} bytes (limit ${MAX_FILE_BYTES})`,
      );
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
    case "code": {
      const isCode = detected.kind === "code";
      const { text, encoding, invalidSequences } = decodeText(bytes);
      const base: Extracted["file"] = {
        path: relPath,
        kind: detected.kind,
        status: "ok",
        bytes: size,
        encoding,
        ...(isCode ? { language: detected.language } : {}),
        ...(invalidSequences ? { invalidSequences } : {}),
      };
      const rejected = rejectText(text, relPath, isCode);
      if (rejected) return { file: { ...base, status: "skipped", reason: rejected } };
      const notes: string[] = [];
      if (invalidSequences) {
        notes.push(`${invalidSequences} invalid UTF-8 sequence(s) replaced with U+FFFD`);
      }
      if (encoding === "windows-1252") notes.push("not valid UTF-8: read as windows-1252");
      return { file: { ...base, ...(notes.length ? { reason: notes.join("; ") } : {}) }, text };
    }
    case "pdf": {
      if ("corrupt" in detected) return skip(relPath, "pdf", size, detected.corrupt);
      try {
        const pdf = await extractPdf(bytes);
        const file = { path: relPath, kind: "pdf" as const, bytes: size, pages: pdf.pages };
        if (pdf.emptyPages === pdf.pages) {
          const why = `no text layer on any of ${pdf.pages} page(s) (scanned PDF?)`;
          return {
            file: { ...file, status: "skipped", reason: pdf.note ? `${pdf.note}; ${why}` : why },
          };
        }
        return {
          file: { ...file, status: "ok", ...(pdf.note ? { reason: pdf.note } : {}) },
          text: pdf.text,
        };
      } catch (err) {
        if (err instanceof PdfError) return skip(relPath, "pdf", size, err.message);
        throw err;
      }
    }
    case "image": {
      if ("corrupt" in detected) return skip(relPath, "image", size, detected.corrupt);
      const problem = checkImage(bytes, detected.format);
      if (problem) return skip(relPath, "image", size, problem);
      try {
        const { text, confidence } = await ocr.recognize(bytes);
        const alnum = (text.match(/[\p{L}\p{N}]/gu) ?? []).length;
        if (confidence < MIN_CONFIDENCE || alnum < 3) {
          return skip(
            relPath,
            "image",
            size,
            `no text found by OCR (confidence ${Math.round(confidence)})`,
          );
        }
        return { file: { path: relPath, kind: "image", status: "ok", bytes: size }, text };
      } catch (err) {
        return skip(
          relPath,
          "image",
          size,
          `unreadable ${detected.format.toUpperCase()}: ${String((err as Error)?.message ?? err)}`,
        );
      }
    }
  }
}

function skip(path: string, kind: ManifestFile["kind"], bytes: number, reason: string): Extracted {
  return { file: { path, kind, status: "skipped", reason, bytes } };
}

function hint(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > name.lastIndexOf("/") + 1 ? ` despite the ${name.slice(dot)} extension` : "";
}
