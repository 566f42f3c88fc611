// The minified build: the same code, loaded in half the time by each worker thread that opens a PDF.
// @ts-types="pdfjs-dist/legacy/build/pdf.d.mts"
import * as pdfjs from "pdfjs-dist/legacy/build/pdf.min.mjs";
import type { TextItem } from "pdfjs-dist/types/src/display/api.d.ts";
import { type Box, columnOrder, median } from "./reading_order.ts";

/** Where pdf.js finds the data files it ships: standard fonts, CJK CMaps, image decoders. */
const PDFJS_DIR = new URL("../node_modules/pdfjs-dist/", import.meta.url).pathname;

/** Resolution pages are rendered at for OCR: what tesseract is tuned for. */
const OCR_DPI = 300;
/** Largest rendered page, in pixels; bigger pages (posters, maps) are rendered at a lower DPI. */
const MAX_OCR_PIXELS = 40_000_000;
/** A page with fewer letters than this over a page-sized image is a scan with a stray text layer. */
const FEW_CHARACTERS = 32;
/** Share of the page an image must cover to count as page-sized. */
const PAGE_SIZED = 0.5;
/** A gutter between text-layer columns is at least this many font heights wide. */
const PDF_GUTTER_HEIGHTS = 0.8;

/** What one page gave: its text layer, a request to OCR it, or why it could not be read. */
export type PageOutcome = { text: string } | { ocr: true } | { failed: string };

/** A PDF that cannot be read; the message is the manifest's reason. */
export class PdfError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PdfError";
  }
}

/** An open document. */
export interface OpenPdf {
  doc: pdfjs.PDFDocumentProxy;
  task: pdfjs.PDFDocumentLoadingTask;
  /** No `%%EOF` marker: the file was cut short. */
  truncated: boolean;
}

/**
 * Opens a PDF with pdf.js (legacy build, no worker, no font faces). Encrypted files that need a
 * password and files pdf.js cannot parse throw {@linkcode PdfError}.
 */
export async function openPdf(bytes: Uint8Array): Promise<OpenPdf> {
  const truncated = !hasEofMarker(bytes);
  const task = pdfjs.getDocument({
    data: bytes, // pdf.js transfers (detaches) this buffer
    verbosity: 0,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    standardFontDataUrl: `${PDFJS_DIR}standard_fonts/`,
    cMapUrl: `${PDFJS_DIR}cmaps/`,
    cMapPacked: true,
    wasmUrl: `${PDFJS_DIR}wasm/`,
  });
  try {
    return { doc: await task.promise, task, truncated };
  } catch (err) {
    await task.destroy().catch(() => {});
    const e = err as Error;
    if (e.name === "PasswordException") {
      throw new PdfError("encrypted PDF: a password is required", { cause: err });
    }
    throw new PdfError(`${truncated ? "truncated" : "corrupt"} PDF: ${e.message}`, { cause: err });
  }
}

/** Closes a document opened by {@linkcode openPdf}. */
export async function closePdf(pdf: OpenPdf): Promise<void> {
  await pdf.doc.cleanup().catch(() => {});
  await pdf.task.destroy().catch(() => {});
}

/**
 * Reads pages `from`…`to` (1-based, inclusive). A page's text layer is read in column order (see
 * {@linkcode columnOrder}); a page with no text but something painted, or with a few letters over
 * a page-sized image, asks for OCR instead.
 */
export async function readPages(pdf: OpenPdf, from: number, to: number): Promise<PageOutcome[]> {
  const out: PageOutcome[] = [];
  for (let p = from; p <= to; p++) {
    try {
      const page = await pdf.doc.getPage(p);
      const text = textLayer((await page.getTextContent()).items);
      const letters = countLetters(text, FEW_CHARACTERS);
      const scanned = letters < FEW_CHARACTERS && await looksScanned(page, letters);
      page.cleanup();
      out.push(scanned ? { ocr: true } : { text });
    } catch (err) {
      out.push({ failed: (err as Error)?.message ?? String(err) });
    }
  }
  return out;
}

/** Renders page `p` for OCR at {@linkcode OCR_DPI}, as an 8-bit grayscale PGM image. */
export async function renderPage(pdf: OpenPdf, p: number): Promise<Uint8Array> {
  const page = await pdf.doc.getPage(p);
  const base = page.getViewport({ scale: 1 });
  const scale = Math.min(OCR_DPI / 72, Math.sqrt(MAX_OCR_PIXELS / (base.width * base.height)));
  const viewport = page.getViewport({ scale });
  const factory = pdf.doc.canvasFactory as CanvasFactory;
  const target = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  try {
    await page.render({ canvas: target.canvas, canvasContext: target.context, viewport }).promise;
    const { width, height } = target.canvas;
    return toPgm(width, height, target.context.getImageData(0, 0, width, height).data);
  } finally {
    factory.destroy(target);
    page.cleanup();
  }
}

// The slice of pdf.js's Node canvas factory (over @napi-rs/canvas) used here.
interface CanvasFactory {
  create(w: number, h: number): { canvas: CanvasLike; context: ContextLike };
  destroy(target: { canvas: CanvasLike; context: ContextLike }): void;
}
interface CanvasLike {
  width: number;
  height: number;
}
interface ContextLike {
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}

/**
 * The text of a page's items: in content-stream order, a new line wherever pdf.js marks an end of
 * line or the baseline moves, as it has always come out; in column order when the items stand in
 * columns, a new line wherever the next item is not further along the same baseline.
 */
function textLayer(items: readonly unknown[]): string {
  const runs = items.filter((i): i is TextItem =>
    typeof i === "object" && i !== null && "str" in i
  );
  const order = readingOrder(runs);
  let out = "";
  let lastY: number | undefined, lastEnd = 0;
  if (!order) {
    for (const item of runs) {
      const y = item.transform[5];
      if (lastY !== undefined && Math.abs(y - lastY) > 1 && out && !out.endsWith("\n")) out += "\n";
      out += item.str;
      if (item.hasEOL) out += "\n";
      lastY = y;
    }
    return out;
  }
  for (const i of order) {
    const item = runs[i];
    const [x, y] = [item.transform[4], item.transform[5]];
    if (lastY !== undefined) {
      const sameLine = Math.abs(y - lastY) <= 1 && x >= lastEnd - 1;
      if (!sameLine) out += "\n";
      else if (x - lastEnd > 0.2 * item.height && !/\s$/.test(out) && !/^\s/.test(item.str)) {
        out += " ";
      }
    }
    out += item.str;
    lastY = y;
    lastEnd = x + item.width;
  }
  return out;
}

/** Indices of `runs` in column order, or undefined to keep content order (see columnOrder). */
function readingOrder(runs: readonly TextItem[]): number[] | undefined {
  const placed: number[] = [], boxes: Box[] = [], heights: number[] = [];
  for (const [i, r] of runs.entries()) {
    const [a, b, c, , e, f] = r.transform;
    if (Math.abs(b) > 1e-6 || Math.abs(c) > 1e-6 || a <= 0) return undefined; // rotated text
    if (!r.str.trim()) continue;
    placed.push(i);
    // The x-height band of the glyphs, so that lines set solid still leave a gap between them.
    boxes.push({ x0: e, x1: e + r.width, y0: -(f + 0.75 * r.height), y1: -(f - 0.05 * r.height) });
    heights.push(r.height);
  }
  const order = columnOrder(boxes, PDF_GUTTER_HEIGHTS * median(heights));
  return order?.map((k) => placed[k]);
}

/**
 * Whether a page with `letters` letters of text is a scan: anything painted when it has no text at
 * all, else an image covering at least half of it (from the operator list, tracking the
 * transformation matrix through save/restore and form XObjects).
 */
async function looksScanned(page: pdfjs.PDFPageProxy, letters: number): Promise<boolean> {
  const { fnArray, argsArray } = await page.getOperatorList();
  const [x0, y0, x1, y1] = page.view;
  const pageArea = Math.abs((x1 - x0) * (y1 - y0)) || 1;
  const OPS = pdfjs.OPS;
  const images = new Set<number>([
    OPS.paintImageXObject,
    OPS.paintInlineImageXObject,
    OPS.paintImageMaskXObject,
    OPS.paintImageXObjectRepeat,
    OPS.paintInlineImageXObjectGroup,
    OPS.paintImageMaskXObjectGroup,
  ]);
  const painting = new Set<number>([...images, OPS.constructPath, OPS.fill, OPS.stroke]);
  let ctm = [1, 0, 0, 1, 0, 0];
  const stack: number[][] = [];
  let largest = 0;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i], args = argsArray[i];
    if (fn === OPS.save) stack.push(ctm);
    else if (fn === OPS.restore) ctm = stack.pop() ?? ctm;
    else if (fn === OPS.transform) ctm = multiply(ctm, args as number[]);
    else if (fn === OPS.paintFormXObjectBegin) {
      stack.push(ctm);
      if (Array.isArray(args?.[0])) ctm = multiply(ctm, args[0] as number[]);
    } else if (fn === OPS.paintFormXObjectEnd) ctm = stack.pop() ?? ctm;
    else if (letters === 0 && painting.has(fn)) return true;
    else if (images.has(fn)) {
      largest = Math.max(largest, Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]));
    }
  }
  return largest / pageArea >= PAGE_SIZED;
}

function multiply(m: number[], t: number[]): number[] {
  return [
    t[0] * m[0] + t[1] * m[2],
    t[0] * m[1] + t[1] * m[3],
    t[2] * m[0] + t[3] * m[2],
    t[2] * m[1] + t[3] * m[3],
    t[4] * m[0] + t[5] * m[2] + m[4],
    t[4] * m[1] + t[5] * m[3] + m[5],
  ];
}

/** Letters and digits in `text`, counted up to `enough`. */
function countLetters(text: string, enough: number): number {
  let n = 0;
  for (const _ of text.matchAll(/[\p{L}\p{N}]/gu)) if (++n >= enough) break;
  return n;
}

/** An 8-bit grayscale PGM (P5) of RGBA pixels, which tesseract reads without decoding. */
function toPgm(width: number, height: number, rgba: Uint8ClampedArray): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + width * height);
  out.set(header);
  for (let i = 0, o = header.length; i < rgba.length; i += 4, o++) {
    out[o] = (rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8;
  }
  return out;
}

function hasEofMarker(bytes: Uint8Array): boolean {
  const tail = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - 1024)));
  return tail.includes("%%EOF");
}
