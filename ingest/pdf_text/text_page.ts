/**
 * A page's shown strings turned into runs of text, with the spaces and line breaks a reader must
 * infer, by the rules PDFium's text page follows (`core/fpdftext/cpdf_textpage.cpp`): strings on
 * one line are read left to right; a line ends where a string sits off the previous one's baseline;
 * a space goes where a gap between strings, or a kerning step inside one, is wider than a share of
 * the glyphs' widths; a string drawn twice over itself (fake bold) counts once; a hyphen at the end
 * of a line, between letters, is marked U+0002 and the line joined; runs of spaces collapse; the
 * ligatures U+FB00 to U+FB06 are spelt out. Following the same rules keeps the text the same
 * whichever engine read the page. Right-to-left and vertical text throw {@linkcode Unsupported}.
 */
import { apply, type Matrix, type TextObject } from "./content.ts";
import { Unsupported } from "./syntax.ts";

/** A run of characters on one baseline, as placed on the page (PDF units, y up). */
export interface TextRun {
  str: string;
  /** Origin of the first character. */
  x: number;
  y: number;
  /** From the first character's origin to the last one's right edge. */
  width: number;
  /** The font's size on the page: its size times the text matrix's scale. */
  height: number;
  /** Ends where a line ends. */
  eol: boolean;
  /** Drawn turned or mirrored. */
  rotated: boolean;
}

/**
 * Characters of the page's text, a glyph's or one the reader inferred, in parallel arrays: a page
 * has thousands, and an object each would keep the garbage collector busy.
 */
class Chars {
  length = 0;
  /** One code point each. */
  readonly text: string[] = [];
  readonly obj: (TextObject | undefined)[] = [];
  /** The glyph's code, -1 for a character the reader inferred. */
  readonly code: number[] = [];
  readonly x: number[] = [];
  readonly y: number[] = [];
  /** Right edge of the glyph's advance on the page. */
  readonly right: number[] = [];

  push(
    text: string,
    obj: TextObject | undefined,
    code: number,
    x: number,
    y: number,
    right: number,
  ): void {
    const i = this.length++;
    this.text[i] = text;
    this.obj[i] = obj;
    this.code[i] = code;
    this.x[i] = x;
    this.y[i] = y;
    this.right[i] = right;
  }

  /** Appends character `i` of `from`, its text replaced by `text`. */
  pushFrom(from: Chars, i: number, text = from.text[i]): void {
    this.push(text, from.obj[i], from.code[i], from.x[i], from.y[i], from.right[i]);
  }

  /** Text of the last character, or undefined when there is none. */
  lastText(): string | undefined {
    return this.length ? this.text[this.length - 1] : undefined;
  }
}

/** Stream-order neighbours a string is compared with for fake bold. */
const SAME_OBJECT_WINDOW = 5;
/** Recent characters a glyph is compared with for fake bold. */
const SAME_CHAR_WINDOW = 7;
/** Strings and boxes narrower than this are empty. */
const EPSILON = 0.01;

/** The runs of a page's strings, in PDFium's reading of them. */
export function textRuns(objects: readonly TextObject[]): TextRun[] {
  const page = new TextPage(SCRATCH);
  const byHolder = new Map<number, TextObject[]>();
  for (const obj of objects) {
    let list = byHolder.get(obj.holder);
    if (!list) byHolder.set(obj.holder, list = []);
    page.add(obj, list);
    list.push(obj);
  }
  return page.finish();
}

/** Reused page after page, so that its arrays grow once rather than for every page. */
const SCRATCH = new Chars();

/**
 * The page's text as it is inferred. The current line is the tail of `chars` from `lineStart`:
 * closing it collapses its runs of spaces and spells out its ligatures in place.
 */
class TextPage {
  pending: TextObject[] = [];
  prev: TextObject | undefined;
  lineStart = 0;

  constructor(readonly chars: Chars) {
    chars.length = 0;
  }

  /** Buffers strings of one line, in order of their start along it; a new line flushes them. */
  add(obj: TextObject, earlier: TextObject[]): void {
    if (width(obj.rect) < EPSILON) return;
    if (this.pending.length === 0) {
      this.pending.push(obj);
      return;
    }
    for (let i = Math.max(0, earlier.length - SAME_OBJECT_WINDOW); i < earlier.length; i++) {
      if (sameText(earlier[i], obj)) return;
    }
    const last = this.pending[this.pending.length - 1];
    const lastWidth = distance(last.m, Math.abs(glyphWidth(last, last.codes.length - 1)));
    const thisWidth = distance(obj.m, Math.abs(glyphWidth(obj, 0)));
    const threshold = Math.max(lastWidth, thisWidth) / 4;
    if (Math.abs(obj.m[5] - last.m[5]) > threshold * 2) {
      this.#flush();
      this.pending = [obj];
      return;
    }
    let at = this.pending.length;
    while (at > 0 && obj.m[4] < this.pending[at - 1].m[4]) at--;
    this.pending.splice(at, 0, obj);
  }

  finish(): TextRun[] {
    this.#flush();
    this.#closeLine();
    return runs(this.chars);
  }

  #flush(): void {
    for (const obj of this.pending) this.#process(obj);
    this.pending = [];
  }

  #process(obj: TextObject): void {
    if (this.prev) {
      const result = this.#joinWithPrevious(obj);
      if (result === "space") this.#generate(" ");
      else if (result === "line") {
        this.#closeLine();
        this.#generate("\n");
        this.lineStart = this.chars.length;
      } else if (result === "hyphen") {
        if (obj.codes.length === 1 && isHyphenCode(obj.font.text(obj.codes[0])!)) return;
        const chars = this.chars;
        while (chars.length > this.lineStart && chars.lastText() === " ") chars.length--;
        if (chars.length > this.lineStart) chars.text[chars.length - 1] = "\u0002";
      }
    }
    this.prev = obj;
    const { font, m, codes, xs } = obj;
    const chars = this.chars;
    const baseSpace = this.#baseSpace(obj);
    const charSpacing = obj.charSpace > 0.001
      ? distance(m, obj.charSpace)
      : obj.charSpace < -0.001
      ? -distance(m, -obj.charSpace)
      : 0;
    const limit = 0.07 * obj.size * Math.hypot(m[0], m[1]);
    const a = m[0], b = m[1], e = m[4], f = m[5];
    let spacing = 0;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i], along = xs[i];
      if (code < 0) {
        const last = chars.lastText();
        if (last !== undefined && last !== " ") spacing = -obj.sizeH * along / 1000;
        continue;
      }
      spacing += charSpacing - baseSpace;
      const x = a * along + e, y = b * along + f;
      if (spacing && i > 0) {
        let threshold = font.spaceCode >= 0 ? obj.sizeH * font.width(font.spaceCode) / 1000 : 0;
        threshold = threshold > obj.sizeH / 3 ? 0 : threshold / 2;
        if (threshold === 0) {
          threshold = obj.sizeH * normalize(font.width(code), 300, 500, 700) / 1000;
        }
        if (threshold && spacing >= threshold) {
          this.#generate(" ");
        }
      }
      spacing = 0;
      if (isRepeat(chars, this.lineStart, code, font, x, y, limit)) {
        if (i === 0 && chars.length > this.lineStart && chars.lastText() === " ") chars.length--;
        continue;
      }
      const right = a * (along + font.width(code) * obj.size / 1000) + e;
      const text = font.text(code)!;
      if (text.length === 1) chars.push(text, obj, code, x, y, right);
      else for (const t of text) chars.push(t, obj, code, x, y, right);
    }
  }

  /** PDFium's spacing that every glyph of a string with character spacing has anyway. */
  #baseSpace(obj: TextObject): number {
    if (!obj.charSpace || obj.codes.length < 3) return 0;
    const spacing = distance(obj.m, obj.charSpace);
    let base = spacing, allChars = true;
    for (let i = 0; i < obj.codes.length; i++) {
      if (obj.codes[i] >= 0) continue;
      base = Math.min(base, -obj.sizeH * obj.xs[i] / 1000 + spacing);
      allChars = false;
    }
    return base < 0 || (obj.codes.length === 3 && !allChars) ? 0 : base;
  }

  /** What goes between the previous string and `obj`: nothing, a space, a line break, or a join. */
  #joinWithPrevious(obj: TextObject): "none" | "space" | "line" | "hyphen" {
    const prev = this.prev!;
    if (obj.vertical || prev.vertical) throw new Unsupported("vertical text");
    // Both strings begin and end with a glyph (see TextObject).
    const last = prev.codes.length - 1;
    const curText = obj.font.text(obj.codes[0])!;
    const cur = curText.codePointAt(0)!;
    if (endsLine(obj.rect, prev.rect)) return this.#isHyphen(cur) ? "hyphen" : "line";
    const lastWidthUnits = glyphWidthUnits(prev, last);
    const thisWidthUnits = glyphWidthUnits(obj, 0);
    const lastWidth = Math.abs(lastWidthUnits * prev.size / 1000);
    const thisWidth = Math.abs(thisWidthUnits * obj.size / 1000);
    let threshold = Math.max(lastWidth, thisWidth) / 4;
    const inverse = invert(prev.m);
    const at = apply(inverse, obj.m[4], obj.m[5]), px = at[0], py = at[1];
    if (lastWidth < thisWidth) threshold = distance(inverse, threshold);
    let newline = (py > threshold * 2 || py < threshold * -3) &&
      (Math.abs(py) >= 1 || Math.abs(py) > Math.abs(px));
    if (newline && last > 0 && prev.xs[last] > prev.xs[0]) {
      // Upright text still on one line when either string starts within the other's height band
      // (and the page's first 1000 units): a superscript or a footnote mark, not a new line.
      const band = (rect: TextObject["rect"], x: number, y: number) =>
        x >= 0 && x <= 1000 && y >= rect[1] && y <= rect[3];
      if (
        prev.m[1] < 0.1 && prev.m[2] < 0.1 &&
        (band(prev.rect, obj.m[4], obj.m[5]) || band(obj.rect, prev.m[4], prev.m[5]))
      ) newline = false;
    }
    if (newline) return this.#isHyphen(cur) ? "hyphen" : "line";
    if (obj.codes.length === 1 && isHyphenCode(curText) && this.#isHyphen(cur)) return "hyphen";
    if (cur === 32) return "none";
    if (prev.font.text(prev.codes[last])!.endsWith(" ")) return "none";
    let threshold2 = normalize(Math.max(lastWidthUnits, thisWidthUnits), 400, 700, 800);
    if (lastWidthUnits >= thisWidthUnits) threshold2 *= Math.abs(prev.size);
    else threshold2 = distance(inverse, distance(obj.m, threshold2 * Math.abs(obj.size)));
    threshold2 /= 1000;
    if (Math.abs(threshold2 - 1.488) < 0.0001 || Math.abs(threshold2 - 1.39) < 0.00001) {
      threshold2 *= 1.5;
    }
    return generatesSpace(px, prev.xs[last], thisWidth, lastWidth, threshold2) ? "space" : "none";
  }

  /** Whether the text so far ends in a hyphen after a letter, and `cur` goes on the word. */
  #isHyphen(cur: number): boolean {
    // Within the current line, or the whole text when the line is empty.
    const { text, length } = this.chars;
    const from = length > this.lineStart ? this.lineStart : 0;
    let i = length - 1;
    if (i < from) return false;
    while (i > from && text[i] === " ") i--;
    if (!isHyphenCode(text[i])) return false;
    return i > from && /\p{L}/u.test(text[i - 1]) &&
      /[\p{L}\p{N}]/u.test(String.fromCodePoint(cur));
  }

  /**
   * A space or line break the reader inferred, after whatever came before (none at the start):
   * no glyph, so nothing to place or compare.
   */
  #generate(text: string): void {
    if (this.chars.length) this.chars.push(text, undefined, -1, 0, 0, 0);
  }

  /** Ends the current line: runs of spaces collapse, and ligatures are spelt out. */
  #closeLine(): void {
    const chars = this.chars, end = chars.length;
    // Most lines have no run of spaces and nothing past U+058F: they stay as they are.
    let k = this.lineStart, space = false;
    for (; k < end; k++) {
      const text = chars.text[k];
      if (text === " " ? space : text.charCodeAt(0) >= 0x590) break;
      space = text === " ";
    }
    if (k < end) this.#rewriteFrom(k);
    this.lineStart = chars.length;
  }

  /** Rewrites the line from character `k` on, its runs of spaces collapsed, ligatures spelt out. */
  #rewriteFrom(k: number): void {
    const chars = this.chars, rest = new Chars();
    for (let i = k; i < chars.length; i++) rest.pushFrom(chars, i);
    chars.length = k;
    let space = k > this.lineStart && chars.text[k - 1] === " ";
    for (let i = 0; i < rest.length; i++) {
      const text = rest.text[i];
      if (text === " ") {
        if (space) continue;
        space = true;
      } else space = false;
      const code = text.charCodeAt(0);
      if (code >= 0x590 && isRightToLeft(text.codePointAt(0)!)) {
        throw new Unsupported("right-to-left text");
      }
      const spelt = code >= 0xfb00 && code <= 0xfb06 ? LIGATURES[code - 0xfb00] : text;
      for (const piece of spelt) chars.pushFrom(rest, i, piece);
    }
  }
}

/** Hebrew, Arabic and the other scripts written right to left, by code point. */
function isRightToLeft(c: number): boolean {
  return (c >= 0x590 && c <= 0x8ff) || (c >= 0xfb1d && c <= 0xfdff) ||
    (c >= 0xfe70 && c <= 0xfefc) || (c >= 0x10800 && c <= 0x10fff) ||
    (c >= 0x1e800 && c <= 0x1efff);
}

const LIGATURES = ["ff", "fi", "fl", "ffi", "ffl", "st", "st"];

/**
 * Runs from the page's characters: cut after each inferred space (which stays at the end of its
 * run) and at each line break, placed by their first and last glyphs.
 */
function runs(chars: Chars): TextRun[] {
  const out: TextRun[] = [];
  const { text, code, length } = chars;
  // The page's text is joined once; each run is a slice of it, by UTF-16 offsets.
  const page = text.slice(0, length).join("");
  const nul = page.includes("\0");
  let start = 0, at = 0, first = -1, last = -1;
  for (let i = 0; i <= length; i++) {
    let end = at, eol = false;
    if (i < length) {
      const t = text[i];
      at += t.length;
      // A line break, inferred or drawn, ends its run with the line; it is not part of the text.
      if (t === "\r" || t === "\n") (end = at - 1, eol = true);
      else if (code[i] < 0) end = at;
      else {
        if (first < 0) first = i;
        const c = t.charCodeAt(0);
        if ((c > 0x20 && c !== 0xa0 && c < 0x1680) || t.trim()) last = i;
        continue;
      }
    }
    if (end > start) {
      const str = nul ? page.slice(start, end).replaceAll("\0", "") : page.slice(start, end);
      if (str) out.push(placed(chars, str, first, last, eol));
    }
    start = at;
    first = last = -1;
  }
  return out;
}

function placed(chars: Chars, str: string, first: number, last: number, eol: boolean): TextRun {
  const obj = first >= 0 ? chars.obj[first] : undefined;
  if (!obj) return { str, x: 0, y: 0, width: 0, height: 0, eol, rotated: false };
  const a = obj.m[0], b = obj.m[1], c = obj.m[2], d = obj.m[3];
  const height = obj.size * Math.sqrt(Math.abs(a * d - b * c));
  const right = chars.right[last >= 0 ? last : first], x = chars.x[first];
  const rotated = Math.abs(b) > 1e-6 || Math.abs(c) > 1e-6 || a <= 0;
  return { str, x, y: chars.y[first], width: Math.max(0, right - x), height, eol, rotated };
}

/** Whether a glyph repeats one of the line's last few in about the same place (fake bold). */
function isRepeat(
  chars: Chars,
  lineStart: number,
  code: number,
  font: TextObject["font"],
  x: number,
  y: number,
  limit: number,
): boolean {
  const stop = Math.max(lineStart, chars.length - SAME_CHAR_WINDOW);
  for (let n = chars.length - 1; n >= stop; n--) {
    if (
      chars.code[n] === code && chars.obj[n]?.font === font && Math.abs(chars.x[n] - x) < limit &&
      Math.abs(chars.y[n] - y) < limit
    ) return true;
  }
  return false;
}

/** PDFium's share of a glyph width that makes a gap a space: less of a wider glyph. */
function normalize(threshold: number, t1: number, t2: number, t3: number): number {
  if (threshold < t1) return threshold / 2;
  if (threshold < t2) return threshold / 4;
  if (threshold < t3) return threshold / 5;
  return threshold / 6;
}

function generatesSpace(
  x: number,
  lastPos: number,
  thisWidth: number,
  lastWidth: number,
  threshold: number,
): boolean {
  if (Math.abs(lastPos + lastWidth - x) <= threshold) return false;
  const thresholdPos = threshold + lastWidth, difference = x - lastPos;
  if (Math.abs(difference) > thresholdPos) return true;
  if (x < 0 && -thresholdPos > difference) return true;
  return difference > thisWidth + lastWidth;
}

/** Two strings taller than 4.5 whose boxes share no height: on different lines. */
function endsLine(rect: TextObject["rect"], prev: TextObject["rect"]): boolean {
  if (rect[3] - rect[1] <= 4.5 || prev[3] - prev[1] <= 4.5) return false;
  return Math.max(rect[1], prev[1]) >= Math.min(rect[3], prev[3]);
}

/** Width of glyph `i` in thousandths of the font size. */
function glyphWidthUnits(obj: TextObject, i: number): number {
  return Math.max(0, obj.font.width(obj.codes[i]));
}

/** Width of glyph `i` in text space. */
function glyphWidth(obj: TextObject, i: number): number {
  return glyphWidthUnits(obj, i) * obj.size / 1000;
}

/** Whether `other` is `obj` drawn again a little aside: the same glyphs, in about the same place. */
function sameText(other: TextObject, obj: TextObject): boolean {
  if (other.codes.length !== obj.codes.length) return false;
  const overlap: TextObject["rect"] = [
    Math.max(obj.rect[0], other.rect[0]),
    Math.max(obj.rect[1], other.rect[1]),
    Math.min(obj.rect[2], other.rect[2]),
    Math.min(obj.rect[3], other.rect[3]),
  ];
  if (overlap[2] <= overlap[0] || overlap[3] <= overlap[1]) return false;
  if (Math.abs(width(overlap) - width(other.rect)) > width(other.rect) / 2) return false;
  if (obj.size !== other.size) return false;
  if (obj.codes.length === 0) return true;
  for (let i = 0; i < obj.codes.length; i++) if (obj.codes[i] !== other.codes[i]) return false;
  const charSize = glyphWidthUnits(obj, obj.codes.length - 1);
  const maxSize = Math.max(overlap[3] - overlap[1], width(overlap), obj.size);
  return Math.abs(other.m[4] - obj.m[4]) <= 0.9 * charSize * obj.size / 1000 &&
    Math.abs(other.m[5] - obj.m[5]) <= maxSize / 8;
}

function isHyphenCode(text: string): boolean {
  return text === "-" || text === "\u00ad";
}

function width(rect: TextObject["rect"]): number {
  return rect[2] - rect[0];
}

/** A length through `m`: scaled by the mean of its two axes' scales, as PDFium measures it. */
function distance(m: Matrix, d: number): number {
  return d * (Math.hypot(m[0], m[1]) + Math.hypot(m[2], m[3])) / 2;
}

function invert(m: Matrix): Matrix {
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const det = a * d - b * c;
  if (!det) throw new Unsupported("a singular text matrix");
  return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det];
}
