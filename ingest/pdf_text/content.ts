/**
 * Runs a page's content streams for their text: the graphics state's transformation, the text
 * state, and form XObjects drawn with `Do`. Each string shown (`Tj`, `TJ`, `'`, `"`) becomes one
 * {@linkcode TextObject}, as PDF engines model them: glyph origins along the string, kerning kept,
 * and the box it covers on the page. Images and paths are passed over.
 */
import { type PdfDocument, Stream } from "./document.ts";
import { loadFont, type PdfFont } from "./fonts.ts";
import { type Dict, isWhite, Lexer, Op, type PdfValue, Unsupported } from "./syntax.ts";

/** An affine transformation `[a, b, c, d, e, f]`, as PDF writes them. */
export type Matrix = [number, number, number, number, number, number];

/** One shown string. */
export interface TextObject {
  font: PdfFont;
  /** The font size operand of `Tf`, and that times the horizontal scaling. */
  size: number;
  sizeH: number;
  /** Character spacing (`Tc`) in effect. */
  charSpace: number;
  /** Text space to page: the text matrix times the transformation, its origin at the string. */
  m: Matrix;
  /**
   * The string's items, side by side: a glyph's code and its origin along the string, or -1 and a
   * `TJ` kerning number between two parts of the string. Kerning sits only between glyphs, so the
   * first and last items, if any, are glyphs.
   */
  codes: number[];
  xs: number[];
  /** The box the glyphs cover on the page: left, bottom, right, top. */
  rect: [number, number, number, number];
  /** Which content stream drew it: the page is 0, each form drawing a new number. */
  holder: number;
  /** Its glyphs advance up or down the page rather than along it. */
  vertical: boolean;
}

/** How deep forms may nest, and how many operators a page may run, before it counts as hostile. */
const MAX_FORM_DEPTH = 12, MAX_OPERATORS = 5_000_000;

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** The strings a page shows, in content order; throws {@linkcode Unsupported}. */
export function pageText(
  doc: PdfDocument,
  contents: PdfValue | Stream | undefined,
  resources: Dict | undefined,
  fonts: Map<Dict, PdfFont | Unsupported>,
): TextObject[] {
  const run = new Interpreter(doc, fonts);
  run.execute(concatenated(doc, contents), resources, IDENTITY, 0);
  return run.out;
}

/** A page's content: one stream, or an array of them read as one. */
function concatenated(doc: PdfDocument, contents: PdfValue | Stream | undefined): Uint8Array {
  const v = doc.get(contents);
  if (v instanceof Stream) return doc.decode(v);
  if (!Array.isArray(v)) return new Uint8Array(0);
  const parts = v.map((p) => {
    const s = doc.get(p);
    return s instanceof Stream ? doc.decode(s) : new Uint8Array(0);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    out[at + p.length] = 10; // streams of one page break between tokens
    at += p.length + 1;
  }
  return out;
}

interface GraphicsState {
  ctm: Matrix;
  font: PdfFont | Unsupported | undefined;
  size: number;
  charSpace: number;
  wordSpace: number;
  scale: number;
  leading: number;
  rise: number;
}

class Interpreter {
  readonly out: TextObject[] = [];
  #holders = 0;
  #operators = 0;
  readonly #forms = new Set<Stream>();

  constructor(readonly doc: PdfDocument, readonly fonts: Map<Dict, PdfFont | Unsupported>) {}

  execute(bytes: Uint8Array, resources: Dict | undefined, ctm: Matrix, depth: number): void {
    const doc = this.doc, holder = this.#holders++;
    const lex = new Lexer(bytes);
    const stack: GraphicsState[] = [];
    let gs: GraphicsState = {
      ctm,
      font: undefined,
      size: 0,
      charSpace: 0,
      wordSpace: 0,
      scale: 1,
      leading: 0,
      rise: 0,
    };
    const tm: Matrix = [...IDENTITY], tlm: Matrix = [...IDENTITY];
    const ops: PdfValue[] = [];
    const num = (i: number) => {
      const v = ops[ops.length - i];
      return typeof v === "number" ? v : 0;
    };
    const moveLine = (tx: number, ty: number) => {
      translate(tlm, tx, ty);
      tm.splice(0, 6, ...tlm);
    };
    /**
     * Shows strings with kerning between them, as PDF engines record a `TJ`: numbers before the
     * first string move where the object starts, numbers after the last only move what follows,
     * and empty strings do not count.
     */
    const show = (parts: PdfValue[]) => {
      const font = gs.font;
      if (!font) throw new Unsupported("text shown with no font set");
      if (font instanceof Unsupported) throw font;
      const perUnit = gs.size / 1000, scale = gs.scale, charSpace = gs.charSpace;
      let lead = 0, trail = 0;
      const strings: Uint8Array[] = [], kerning: number[] = [];
      for (const part of parts) {
        if (typeof part === "number") {
          if (strings.length) kerning[strings.length - 1] += part;
          else lead += part;
        } else if (part instanceof Uint8Array && part.length) {
          strings.push(part);
          kerning.push(0);
        }
      }
      if (strings.length) trail = kerning.pop()!;
      if (lead) translate(tm, -lead * perUnit * scale, 0);
      const step = font.twoByte ? 2 : 1;
      let n = kerning.length;
      for (let s = 0; s < strings.length; s++) n += (strings[s].length / step) | 0;
      const codes: number[] = new Array(n), xs: number[] = new Array(n);
      const wordSpace = gs.wordSpace;
      let pos = 0, k = 0;
      for (let s = 0; s < strings.length; s++) {
        const bytes = strings[s];
        for (let i = 0; i + step <= bytes.length; i += step) {
          const code = step === 2 ? bytes[i] * 256 + bytes[i + 1] : bytes[i];
          if (font.text(code) === undefined) throw new Unsupported(`no text for code ${code}`);
          codes[k] = code;
          xs[k++] = pos * scale;
          pos += font.width(code) * perUnit + charSpace;
          if (code === 32 && step === 1) pos += wordSpace;
        }
        if (s < kerning.length) {
          pos -= kerning[s] * perUnit;
          codes[k] = -1;
          xs[k++] = kerning[s];
        }
      }
      pos *= scale;
      const text = multiply(tm, gs.ctm);
      const origin = apply(text, 0, gs.rise), x = origin[0], y = origin[1];
      const top = font.ascent * perUnit + gs.rise, bottom = font.descent * perUnit + gs.rise;
      this.out.push({
        font,
        size: gs.size,
        sizeH: gs.size * scale,
        charSpace,
        m: [text[0], text[1], text[2], text[3], x, y],
        codes,
        xs,
        rect: codes.length ? bounds(text, 0, pos, bottom, top) : [x, y, x, y],
        holder,
        vertical: advancesVertically(text, xs),
      });
      translate(tm, pos - trail * perUnit * scale, 0);
    };

    while (lex.skip()) {
      const v = lex.value(false);
      if (!(v instanceof Op)) {
        ops.push(v);
        continue;
      }
      if (++this.#operators > MAX_OPERATORS) throw new Unsupported("too many operators");
      switch (v.name) {
        case "q":
          stack.push({ ...gs });
          break;
        case "Q":
          if (stack.length) gs = stack.pop()!;
          break;
        case "cm":
          gs.ctm = multiply([num(6), num(5), num(4), num(3), num(2), num(1)], gs.ctm);
          break;
        case "BT":
          tm.splice(0, 6, ...IDENTITY);
          tlm.splice(0, 6, ...IDENTITY);
          break;
        case "Tf": {
          gs.size = num(1);
          const name = ops[ops.length - 2];
          const dict = doc.dict(doc.dict(resources?.get("Font"))?.get(String(name)));
          gs.font = dict ? this.#font(dict) : new Unsupported(`font ${String(name)} not found`);
          break;
        }
        case "Tc":
          gs.charSpace = num(1);
          break;
        case "Tw":
          gs.wordSpace = num(1);
          break;
        case "Tz":
          gs.scale = num(1) / 100;
          break;
        case "TL":
          gs.leading = num(1);
          break;
        case "Ts":
          gs.rise = num(1);
          break;
        case "Td":
          moveLine(num(2), num(1));
          break;
        case "TD":
          gs.leading = -num(1);
          moveLine(num(2), num(1));
          break;
        case "Tm":
          tlm.splice(0, 6, num(6), num(5), num(4), num(3), num(2), num(1));
          tm.splice(0, 6, ...tlm);
          break;
        case "T*":
          moveLine(0, -gs.leading);
          break;
        case "Tj":
          show([ops[ops.length - 1]]);
          break;
        case "TJ": {
          const parts = ops[ops.length - 1];
          show(Array.isArray(parts) ? parts : []);
          break;
        }
        case "'":
          moveLine(0, -gs.leading);
          show([ops[ops.length - 1]]);
          break;
        case '"':
          gs.wordSpace = num(3);
          gs.charSpace = num(2);
          moveLine(0, -gs.leading);
          show([ops[ops.length - 1]]);
          break;
        case "Do":
          this.#form(resources, ops[ops.length - 1], gs.ctm, depth);
          break;
        case "BDC":
          if (hasActualText(doc, resources, ops[ops.length - 1])) {
            throw new Unsupported("marked content with /ActualText");
          }
          break;
        case "BI":
          skipInlineImage(lex);
          break;
        case "d0":
        case "d1":
          throw new Unsupported("glyph procedure operators in a page");
      }
      ops.length = 0;
    }
  }

  #font(dict: Dict): PdfFont | Unsupported {
    let font = this.fonts.get(dict);
    if (!font) {
      try {
        font = loadFont(this.doc, dict);
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        font = err;
      }
      this.fonts.set(dict, font);
    }
    return font;
  }

  #form(resources: Dict | undefined, name: PdfValue, ctm: Matrix, depth: number): void {
    const xobject = this.doc.get(this.doc.dict(resources?.get("XObject"))?.get(String(name)));
    if (!(xobject instanceof Stream) || xobject.dict.get("Subtype") !== "Form") return;
    if (this.#forms.has(xobject) || depth >= MAX_FORM_DEPTH) {
      throw new Unsupported("forms drawn inside themselves");
    }
    const m = this.doc.get(xobject.dict.get("Matrix"));
    const matrix = Array.isArray(m) && m.length === 6
      ? m.map((v) => this.doc.num(v, 0)) as Matrix
      : IDENTITY;
    this.#forms.add(xobject);
    try {
      const own = this.doc.dict(xobject.dict.get("Resources"));
      this.execute(this.doc.decode(xobject), own ?? resources, multiply(matrix, ctm), depth + 1);
    } finally {
      this.#forms.delete(xobject);
    }
  }
}

/** Moves `m`'s origin by `(tx, ty)` in its own space, in place: `[1 0 0 1 tx ty]` then `m`. */
function translate(m: Matrix, tx: number, ty: number): void {
  m[4] += tx * m[0] + ty * m[2];
  m[5] += tx * m[1] + ty * m[3];
}

/** `m1` then `m2`: PDF's row-vector convention, so `multiply(tm, ctm)` maps text space to page. */
function multiply(m1: Matrix, m2: Matrix): Matrix {
  const a = m1[0], b = m1[1], c = m1[2], d = m1[3], e = m1[4], f = m1[5];
  const A = m2[0], B = m2[1], C = m2[2], D = m2[3], E = m2[4], F = m2[5];
  return [
    a * A + b * C,
    a * B + b * D,
    c * A + d * C,
    c * B + d * D,
    e * A + f * C + E,
    e * B + f * D + F,
  ];
}

/** The point `(x, y)` through `m`. */
export function apply(m: Matrix, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

/** Whether glyphs from the first to the last move more up or down the page than along it. */
function advancesVertically(m: Matrix, xs: number[]): boolean {
  if (xs.length < 2) return false;
  const along = xs[xs.length - 1] - xs[0];
  const dx = Math.abs(m[0] * along), dy = Math.abs(m[1] * along);
  const length = Math.hypot(dx, dy);
  return length > 1e-4 && dx / length <= 0.0872 && dy / length > 0.0872;
}

/** The page box of the text-space rectangle `x0`…`x1`, `y0`…`y1` through `m`. */
function bounds(m: Matrix, x0: number, x1: number, y0: number, y1: number): TextObject["rect"] {
  const xa = m[0] * x0 + m[2] * y0 + m[4], xb = m[0] * x1 + m[2] * y0 + m[4];
  const xc = m[0] * x0 + m[2] * y1 + m[4], xd = m[0] * x1 + m[2] * y1 + m[4];
  const ya = m[1] * x0 + m[3] * y0 + m[5], yb = m[1] * x1 + m[3] * y0 + m[5];
  const yc = m[1] * x0 + m[3] * y1 + m[5], yd = m[1] * x1 + m[3] * y1 + m[5];
  return [
    Math.min(xa, xb, xc, xd),
    Math.min(ya, yb, yc, yd),
    Math.max(xa, xb, xc, xd),
    Math.max(ya, yb, yc, yd),
  ];
}

/** Whether a `BDC` property list (inline, or named in /Properties) carries /ActualText. */
function hasActualText(doc: PdfDocument, resources: Dict | undefined, props: PdfValue): boolean {
  const dict = typeof props === "string"
    ? doc.dict(doc.dict(resources?.get("Properties"))?.get(props))
    : props instanceof Map
    ? props
    : undefined;
  return !!dict?.has("ActualText");
}

/**
 * Moves past an inline image: its dictionary up to `ID`, then the data up to an `EI` between white
 * space. The data's length is not written down, so the search is what readers do.
 */
function skipInlineImage(lex: Lexer): void {
  for (;;) {
    if (!lex.skip()) throw new Unsupported("inline image without ID");
    const v = lex.value(false);
    if (v instanceof Op && v.name === "ID") break;
  }
  const b = lex.bytes;
  for (let p = lex.pos + 1; p + 1 < b.length; p++) {
    if (
      b[p] === 0x45 && b[p + 1] === 0x49 && isWhite(b[p - 1]) &&
      (p + 2 >= b.length || isWhite(b[p + 2]))
    ) {
      lex.pos = p + 2;
      return;
    }
  }
  throw new Unsupported("inline image without EI");
}
