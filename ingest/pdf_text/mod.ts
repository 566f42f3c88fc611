/**
 * A PDF text-layer reader in TypeScript, for the files it can read exactly as PDFium would: well
 * formed, unencrypted, Flate-compressed, with fonts whose codes map to Unicode through ToUnicode or
 * a known encoding, and upright horizontal text. It gives the same runs as PDFium's text page in
 * a fraction of the time, since it parses no font programs and measures no glyph outlines. A file
 * or page it does not take answers undefined, and the caller asks PDFium.
 *
 * @example
 * ```ts
 * const doc = openPdfText(bytes);
 * const runs = doc?.pageRuns(0); // undefined: read this page with PDFium
 * ```
 */
import { pageText } from "./content.ts";
import { PdfDocument } from "./document.ts";
import type { PdfFont } from "./fonts.ts";
import type { Dict } from "./syntax.ts";
import { Unsupported } from "./syntax.ts";
import { type TextRun, textRuns } from "./text_page.ts";

export type { TextRun } from "./text_page.ts";

/** A document this reader opened. */
export interface PdfText {
  pages: number;
  /** Page `index` (0-based) as text runs, or undefined where PDFium must read it. */
  pageRuns(index: number): TextRun[] | undefined;
}

/** Opens `bytes`, or undefined when the file is not one this reader takes. */
export function openPdfText(bytes: Uint8Array): PdfText | undefined {
  let doc: PdfDocument;
  try {
    doc = new PdfDocument(bytes);
  } catch {
    return undefined; // broken, encrypted or unusual: PDFium repairs, decrypts or refuses it
  }
  const fonts = new Map<Dict, PdfFont | Unsupported>();
  return {
    pages: doc.pages.length,
    pageRuns(index) {
      const page = doc.pages[index];
      if (!page || page.rotate % 360 !== 0) return undefined;
      try {
        return textRuns(pageText(doc, page.dict.get("Contents"), page.resources, fonts));
      } catch {
        // Unsupported, or a file that breaks this reader's expectations in a way it did not
        // foresee: either way PDFium, which has seen far more files, reads the page.
        return undefined;
      }
    },
  };
}
