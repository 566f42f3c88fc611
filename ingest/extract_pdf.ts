import * as pdfjs from "pdfjs-dist/legacy/build/pdf.mjs";

/** Text of a PDF, page by page, and anything worth recording about how it was read. */
export interface PdfText {
  text: string;
  pages: number;
  /** Pages that held no text (scanned pages without a text layer). */
  emptyPages: number;
  /** A note for the manifest, e.g. that the file was truncated but text was recovered. */
  note?: string;
}

/** A PDF that cannot be read; the message is the manifest's reason. */
export class PdfError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PdfError";
  }
}

/**
 * Extracts text with pdf.js (legacy build, no worker, no fonts loaded): items in content-stream
 * order, which is reading order for ordinary single-column documents, a new line wherever pdf.js
 * marks an end of line or the baseline moves, pages separated by a blank line.
 *
 * Encrypted files that need a password and files pdf.js cannot parse throw {@linkcode PdfError}.
 */
export async function extractPdf(bytes: Uint8Array): Promise<PdfText> {
  const truncated = !hasEofMarker(bytes);
  let doc: pdfjs.PDFDocumentProxy;
  const task = pdfjs.getDocument({
    data: bytes.slice(), // pdf.js transfers (detaches) the buffer it is given
    verbosity: 0,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
  });
  try {
    doc = await task.promise;
  } catch (err) {
    await task.destroy().catch(() => {});
    const e = err as Error;
    if (e.name === "PasswordException") {
      throw new PdfError("encrypted PDF: a password is required", { cause: err });
    }
    throw new PdfError(`${truncated ? "truncated" : "corrupt"} PDF: ${e.message}`, { cause: err });
  }
  try {
    const pageTexts: string[] = [];
    let emptyPages = 0, failedPages = 0;
    for (let p = 1; p <= doc.numPages; p++) {
      let text = "";
      try {
        text = await pageText(await doc.getPage(p));
      } catch {
        failedPages++;
      }
      if (!text.trim()) emptyPages++;
      pageTexts.push(text);
    }
    const notes: string[] = [];
    if (truncated) notes.push("truncated PDF (no %%EOF marker): text recovered where possible");
    if (failedPages > 0) notes.push(`${failedPages} page(s) could not be parsed`);
    return {
      text: pageTexts.join("\n\n"),
      pages: doc.numPages,
      emptyPages,
      note: notes.length ? notes.join("; ") : undefined,
    };
  } finally {
    await doc.cleanup().catch(() => {});
    await task.destroy();
  }
}

async function pageText(page: pdfjs.PDFPageProxy): Promise<string> {
  const content = await page.getTextContent();
  let out = "";
  let lastY: number | undefined;
  for (const item of content.items) {
    if (!("str" in item)) continue;
    const y = item.transform[5];
    if (lastY !== undefined && Math.abs(y - lastY) > 1 && out && !out.endsWith("\n")) out += "\n";
    out += item.str;
    if (item.hasEOL) out += "\n";
    lastY = y;
  }
  page.cleanup();
  return out;
}

function hasEofMarker(bytes: Uint8Array): boolean {
  const tail = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - 1024)));
  return tail.includes("%%EOF");
}
