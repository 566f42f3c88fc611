import { openPdfText, type PdfText, type TextRun } from "./pdf_text/mod.ts";
import { type Box, columnOrder, median } from "./reading_order.ts";
import { dropPdfiumAfter, isTrap, type Pdfium, pdfium as threadPdfium } from "./pdfium.ts";

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

/** PDFium's error codes from `FPDF_GetLastError`, as the manifest words them. */
const LOAD_ERRORS: Record<number, string> = {
  2: "the file could not be read",
  3: "not a PDF, or damaged beyond repair",
  4: "encrypted PDF: a password is required",
  5: "encrypted PDF: an unsupported security handler",
};
/** PDFium's page object types (`FPDF_PAGEOBJ_*`). */
const OBJ = { path: 2, image: 3, shading: 4, form: 5 } as const;
/** `FPDFBitmap_Gray`, and the render flags: annotations, as printed, in gray. */
const GRAY = 1, RENDER_FLAGS = 0x01 | 0x800 | 0x08;

/** What one page gave: its text layer, a request to OCR it, or why it could not be read. */
export type PageOutcome = { text: string } | { ocr: true } | { failed: string };

/** A PDF that cannot be read; the message is the manifest's reason. */
export class PdfError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PdfError";
  }
}

/**
 * An open document: read by the TypeScript text-layer reader (`pdf_text/`) where it can, and by
 * this thread's PDFium, opened on first need, for the pages it leaves and for rendering.
 */
export interface OpenPdf {
  data: Uint8Array;
  pages: number;
  /** No `%%EOF` marker: the file was cut short. */
  truncated: boolean;
  fast: PdfText | undefined;
  engine: Promise<PdfiumDocument> | undefined;
}

/** A document open in PDFium. */
interface PdfiumDocument {
  pdfium: Pdfium;
  doc: number;
  /** The file's bytes in PDFium's memory, which the document reads from until it is closed. */
  bytes: number;
  pages: number;
}

/**
 * Opens a PDF. A file the TypeScript reader takes is not handed to PDFium until a page needs it;
 * others go to PDFium at once, which rebuilds a damaged cross-reference table where it can.
 * Encrypted files that need a password and files PDFium cannot parse throw {@linkcode PdfError}.
 * With `pdfiumOnly`, PDFium reads every page.
 */
export async function openPdf(
  data: Uint8Array,
  opts: { pdfiumOnly?: boolean } = {},
): Promise<OpenPdf> {
  const truncated = !hasEofMarker(data);
  const fast = opts.pdfiumOnly ? undefined : openPdfText(data);
  if (fast) return { data, pages: fast.pages, truncated, fast, engine: undefined };
  const engine = openInPdfium(data, truncated);
  return { data, pages: (await engine).pages, truncated, fast, engine };
}

async function openInPdfium(data: Uint8Array, truncated: boolean): Promise<PdfiumDocument> {
  const pdfium = await threadPdfium();
  const { fn } = pdfium;
  const bytes = pdfium.malloc(Math.max(1, data.length));
  try {
    pdfium.heapU8().set(data, bytes);
    const doc = fn.FPDF_LoadMemDocument(bytes, data.length, 0); // 0: no password
    if (!doc) {
      const code = fn.FPDF_GetLastError();
      const why = LOAD_ERRORS[code] ?? `PDFium error ${code}`;
      throw new PdfError(
        why.startsWith("encrypted") ? why : `${brokenKind(truncated)} PDF: ${why}`,
      );
    }
    return { pdfium, doc, bytes, pages: fn.FPDF_GetPageCount(doc) };
  } catch (err) {
    quietly(() => pdfium.free(bytes));
    dropPdfiumAfter(err);
    throw err instanceof PdfError ? err : new PdfError(
      `${brokenKind(truncated)} PDF: ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  }
}

/** PDFium's copy of `pdf`, opened on first use. */
function inPdfium(pdf: OpenPdf): Promise<PdfiumDocument> {
  return pdf.engine ??= openInPdfium(pdf.data, pdf.truncated);
}

/** Closes a document opened by {@linkcode openPdf}. */
export async function closePdf(pdf: OpenPdf): Promise<void> {
  const engine = await pdf.engine?.catch(() => undefined);
  if (!engine) return;
  quietly(() => {
    engine.pdfium.fn.FPDF_CloseDocument(engine.doc);
    engine.pdfium.free(engine.bytes);
  });
}

/**
 * Reads pages `from`…`to` (1-based, inclusive). A page's text layer is read in column order (see
 * {@linkcode columnOrder}); a page with few letters goes to PDFium, which asks for OCR instead
 * when it has no text but something painted, or a few letters over a page-sized image. A page
 * PDFium cannot load fails alone; a trap inside PDFium fails the whole call, as the document died
 * with the instance.
 */
export async function readPages(pdf: OpenPdf, from: number, to: number): Promise<PageOutcome[]> {
  const out: PageOutcome[] = [];
  for (let p = from; p <= to; p++) {
    const runs = pdf.fast?.pageRuns(p - 1);
    if (runs) {
      const text = textLayer(runs);
      if (countLetters(text, FEW_CHARACTERS) >= FEW_CHARACTERS) {
        out.push({ text });
        continue;
      }
    }
    try {
      // A file this reader opened that PDFium cannot fails only the pages left to PDFium.
      const engine = await inPdfium(pdf);
      out.push(withPage(engine, p, (page) => {
        const text = textLayer(pdfiumRuns(engine.pdfium, page));
        const letters = countLetters(text, FEW_CHARACTERS);
        const scanned = letters < FEW_CHARACTERS && looksScanned(engine.pdfium, page, letters);
        return scanned ? { ocr: true } : { text };
      }));
    } catch (err) {
      if (isTrap(err)) {
        dropPdfiumAfter(err);
        throw err;
      }
      out.push({ failed: (err as Error)?.message ?? String(err) });
    }
  }
  return out;
}

/** Renders page `p` for OCR at {@linkcode OCR_DPI}, as an 8-bit grayscale PGM image. */
export async function renderPage(pdf: OpenPdf, p: number): Promise<Uint8Array> {
  const engine = await inPdfium(pdf);
  const { fn } = engine.pdfium;
  try {
    return withPage(engine, p, (page) => {
      const [w, h] = [fn.FPDF_GetPageWidthF(page), fn.FPDF_GetPageHeightF(page)];
      const scale = Math.min(OCR_DPI / 72, Math.sqrt(MAX_OCR_PIXELS / (w * h)));
      const [width, height] = [Math.ceil(w * scale), Math.ceil(h * scale)];
      const bitmap = fn.FPDFBitmap_CreateEx(width, height, GRAY, 0, 0);
      if (!bitmap) throw new RangeError(`cannot make a ${width}x${height} bitmap for page ${p}`);
      try {
        fn.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xffffffff);
        fn.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, RENDER_FLAGS);
        const stride = fn.FPDFBitmap_GetStride(bitmap), at = fn.FPDFBitmap_GetBuffer(bitmap);
        return toPgm(width, height, engine.pdfium.heapU8(), at, stride);
      } finally {
        fn.FPDFBitmap_Destroy(bitmap);
      }
    });
  } catch (err) {
    dropPdfiumAfter(err);
    throw err;
  }
}

/** Runs `use` on page `p` (1-based), loaded and closed around it. */
function withPage<T>(pdf: PdfiumDocument, p: number, use: (page: number) => T): T {
  const { fn } = pdf.pdfium;
  const page = fn.FPDF_LoadPage(pdf.doc, p - 1);
  if (!page) throw new Error(`page ${p} could not be parsed`);
  try {
    return use(page);
  } finally {
    fn.FPDF_ClosePage(page);
  }
}

/**
 * A page's characters in content-stream order, cut into runs wherever PDFium inserted a space or a
 * line break of its own (between words set apart, and between lines): so that text drawn row by
 * row across columns still comes apart at the gutter. An inserted space stays at the end of its
 * run. The page's UTF-16 is gathered in one array and decoded once, the runs sliced from it.
 */
function pdfiumRuns(pdfium: Pdfium, page: number): TextRun[] {
  const { fn } = pdfium;
  const textPage = fn.FPDFText_LoadPage(page);
  if (!textPage) throw new Error("text layer could not be read");
  try {
    const n = fn.FPDFText_CountChars(textPage);
    const units = utf16Scratch(2 * n);
    const cuts: { from: number; to: number; first: number; last: number; eol: boolean }[] = [];
    // Looked up once: the exports object has hundreds of properties.
    const { FPDFText_GetUnicode: unicodeOf, FPDFText_IsGenerated: isGenerated } = fn;
    let k = 0, from = 0, first = -1, last = -1;
    const cut = (eol: boolean) => {
      if (k > from) cuts.push({ from, to: k, first, last, eol });
      from = k;
      first = last = -1;
    };
    for (let i = 0; i < n; i++) {
      const code = unicodeOf(textPage, i);
      // PDFium inserts only spaces and line breaks of its own.
      const generated = (code === 32 || code === 13 || code === 10) &&
        isGenerated(textPage, i) === 1;
      if (code === 13 || code === 10) {
        if (code === 10 || !generated) cut(true);
        continue;
      }
      if (code < 0x10000) {
        if (code) units[k++] = code;
      } else if (code <= 0x10ffff) {
        units[k++] = 0xd7c0 + (code >> 10); // the surrogate pair of code - 0x10000
        units[k++] = 0xdc00 + (code & 0x3ff);
      } else units[k++] = 0xfffd; // an unsigned int from PDFium, past Unicode
      if (generated) {
        cut(false);
        continue;
      }
      if (first < 0) first = i;
      if (!isBlank(code)) last = i;
    }
    cut(false);
    const text = UTF16.decode(units.subarray(0, k));
    return cuts.map((c) => run(pdfium, textPage, text.slice(c.from, c.to), c.first, c.last, c.eol));
  } finally {
    fn.FPDFText_ClosePage(textPage);
  }
}

/** Keeps a leading U+FEFF: the runs are sliced at offsets counted before decoding. */
const UTF16 = new TextDecoder("utf-16le", { ignoreBOM: true });
let utf16 = new Uint16Array(0);

/** A reused array of at least `length` UTF-16 code units. */
function utf16Scratch(length: number): Uint16Array {
  if (utf16.length < length) utf16 = new Uint16Array(Math.max(length, 2 * utf16.length));
  return utf16;
}

/** Whether code point `c` is white space, as `String.prototype.trim` counts it. */
function isBlank(c: number): boolean {
  return c <= 32 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** The placement of characters `first`…`last` (a run's first and last letters). */
function run(
  { fn, scratch, heapF32, heapF64 }: Pdfium,
  textPage: number,
  str: string,
  first: number,
  last: number,
  eol: boolean,
): TextRun {
  if (first < 0) return { str, x: 0, y: 0, width: 0, height: 0, eol, rotated: false };
  fn.FPDFText_GetMatrix(textPage, first, scratch);
  const [a, b, c, d] = heapF32().subarray(scratch / 4, scratch / 4 + 4);
  const size = fn.FPDFText_GetFontSize(textPage, first) * Math.sqrt(Math.abs(a * d - b * c));
  fn.FPDFText_GetCharOrigin(textPage, first, scratch, scratch + 8);
  const [x, y] = heapF64().subarray(scratch / 8, scratch / 8 + 2);
  const box = [scratch, scratch + 8, scratch + 16, scratch + 24] as const; // left, right, bottom, top
  fn.FPDFText_GetCharBox(textPage, Math.max(first, last), ...box);
  const right = heapF64()[scratch / 8 + 1];
  const rotated = Math.abs(b) > 1e-6 || Math.abs(c) > 1e-6 || a <= 0;
  return { str, x, y, width: Math.max(0, right - x), height: size, eol, rotated };
}

/**
 * The text of a page's runs: in content-stream order, a new line wherever PDFium ends a line or
 * the baseline moves; in column order when the runs stand in columns, a new line wherever the next
 * run is not further along the same baseline.
 */
function textLayer(runs: readonly TextRun[]): string {
  const order = readingOrder(runs);
  let out = "";
  let lastY: number | undefined, lastEnd = 0;
  if (!order) {
    // Whether the text so far ends a line, kept aside: asking the growing string would flatten it,
    // a copy of the page so far for every run.
    let newline = true;
    for (const item of runs) {
      if (item.str.trim() && lastY !== undefined && Math.abs(item.y - lastY) > 1 && !newline) {
        out += "\n";
      }
      out += item.str;
      if (item.eol) out += "\n";
      if (item.eol || item.str) newline = item.eol || item.str.endsWith("\n");
      if (item.str.trim()) lastY = item.y;
    }
    return out.replace(/\n+$/, "");
  }
  // The line being read is kept apart from the lines before it, for the same reason.
  let line = "";
  for (const i of order) {
    const item = runs[i];
    if (lastY !== undefined) {
      const sameLine = Math.abs(item.y - lastY) <= 1 && item.x >= lastEnd - 1;
      if (!sameLine) {
        out += line.replace(/ $/, "") + "\n";
        line = "";
      } else if (
        item.x - lastEnd > 0.2 * item.height && !/\s$/.test(line || out) && !/^\s/.test(item.str)
      ) {
        line += " ";
      }
    }
    line += item.str;
    lastY = item.y;
    lastEnd = item.x + item.width;
  }
  return out + line.replace(/ $/, "");
}

/** Indices of `runs` in column order, or undefined to keep content order (see columnOrder). */
function readingOrder(runs: readonly TextRun[]): number[] | undefined {
  const placed: number[] = [], boxes: Box[] = [], heights: number[] = [];
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i];
    if (!r.str.trim()) continue;
    if (r.rotated) return undefined;
    placed.push(i);
    // The x-height band of the glyphs, so that lines set solid still leave a gap between them.
    const x = r.x, y = r.y, h = r.height;
    boxes.push({ x0: x, x1: x + r.width, y0: -(y + 0.75 * h), y1: -(y - 0.05 * h) });
    heights.push(h);
  }
  const order = columnOrder(boxes, PDF_GUTTER_HEIGHTS * median(heights));
  return order?.map((k) => placed[k]);
}

/**
 * Whether a page with `letters` letters of text is a scan: anything painted when it has no text at
 * all, else an image covering at least half of it. An image inside a form XObject counts with the
 * form's bounds on the page.
 */
function looksScanned({ fn, scratch, heapF32 }: Pdfium, page: number, letters: number): boolean {
  const pageArea = Math.abs(fn.FPDF_GetPageWidthF(page) * fn.FPDF_GetPageHeightF(page)) || 1;
  const area = (obj: number) => {
    if (!fn.FPDFPageObj_GetBounds(obj, scratch, scratch + 4, scratch + 8, scratch + 12)) return 0;
    const [l, b, r, t] = heapF32().subarray(scratch / 4, scratch / 4 + 4);
    return Math.abs((r - l) * (t - b));
  };
  /** Whether `obj` is or holds something painted, and whether it is or holds an image. */
  const inspect = (obj: number): { painted: boolean; image: boolean } => {
    const type = fn.FPDFPageObj_GetType(obj);
    if (type === OBJ.image) return { painted: true, image: true };
    if (type === OBJ.path || type === OBJ.shading) return { painted: true, image: false };
    if (type !== OBJ.form) return { painted: false, image: false };
    const found = { painted: false, image: false };
    for (let i = 0, n = fn.FPDFFormObj_CountObjects(obj); i < n; i++) {
      const inner = inspect(fn.FPDFFormObj_GetObject(obj, i));
      found.painted ||= inner.painted;
      found.image ||= inner.image;
    }
    return found;
  };
  let largest = 0;
  for (let i = 0, n = fn.FPDFPage_CountObjects(page); i < n; i++) {
    const obj = fn.FPDFPage_GetObject(page, i);
    const { painted, image } = inspect(obj);
    if (letters === 0 && painted) return true;
    if (image) largest = Math.max(largest, area(obj));
  }
  return largest / pageArea >= PAGE_SIZED;
}

/** Letters and digits in `text`, counted up to `enough`. */
function countLetters(text: string, enough: number): number {
  let n = 0;
  for (const _ of text.matchAll(/[\p{L}\p{N}]/gu)) if (++n >= enough) break;
  return n;
}

/** An 8-bit grayscale PGM (P5) of a gray bitmap's rows, which tesseract reads without decoding. */
function toPgm(width: number, height: number, heap: Uint8Array, at: number, stride: number) {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + width * height);
  out.set(header);
  for (let row = 0; row < height; row++) {
    out.set(
      heap.subarray(at + row * stride, at + row * stride + width),
      header.length + row * width,
    );
  }
  return out;
}

function hasEofMarker(bytes: Uint8Array): boolean {
  const tail = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - 1024)));
  return tail.includes("%%EOF");
}

function brokenKind(truncated: boolean): string {
  return truncated ? "truncated" : "corrupt";
}

/** Runs a freeing step, ignoring a PDFium that has already trapped. */
function quietly(step: () => void): void {
  try {
    step();
  } catch (err) {
    dropPdfiumAfter(err);
  }
}
