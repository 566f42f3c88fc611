/**
 * What a font says of the character codes a string shows: how many bytes each code takes, the
 * Unicode text it stands for, and its advance width. Taken on are simple fonts (Type 1, TrueType)
 * whose codes map through a ToUnicode CMap or a known encoding, and composite fonts with the
 * Identity-H encoding and a ToUnicode CMap. Type 3 fonts, vertical writing and other CMaps throw
 * {@linkcode Unsupported}; a code with no known text reads as undefined, and its page goes to
 * PDFium, which knows the font programs.
 */
import type { PdfDocument } from "./document.ts";
import { Stream } from "./document.ts";
import {
  glyphUnicode,
  MAC_ROMAN_ENCODING,
  STANDARD_ENCODING,
  standardFontWidths,
  WIN_ANSI_ENCODING,
} from "./glyphs.ts";
import { type Dict, latin1, Lexer, Op, Unsupported } from "./syntax.ts";

export interface PdfFont {
  /** Two-byte codes (Identity-H); otherwise one byte per code. */
  readonly twoByte: boolean;
  /** The code whose text is a space, or -1: PDFium sizes its word gaps by that glyph. */
  readonly spaceCode: number;
  /** Unicode text of `code`; undefined when neither ToUnicode nor the encoding knows it. */
  text(code: number): string | undefined;
  /** Advance width of `code` in thousandths of the font size. */
  width(code: number): number;
  /** Ascent and descent in thousandths of the font size, for the boxes lines are told apart by. */
  readonly ascent: number;
  readonly descent: number;
}

const BASE_ENCODINGS: Record<string, readonly string[]> = {
  WinAnsiEncoding: WIN_ANSI_ENCODING,
  StandardEncoding: STANDARD_ENCODING,
  MacRomanEncoding: MAC_ROMAN_ENCODING,
};

/** The font dictionary `dict` as a {@linkcode PdfFont}; throws {@linkcode Unsupported}. */
export function loadFont(doc: PdfDocument, dict: Dict): PdfFont {
  const subtype = dict.get("Subtype");
  if (subtype === "Type0") return compositeFont(doc, dict);
  if (subtype !== "Type1" && subtype !== "TrueType" && subtype !== "MMType1") {
    throw new Unsupported(`font subtype ${String(subtype)}`);
  }
  return simpleFont(doc, dict);
}

function simpleFont(doc: PdfDocument, dict: Dict): PdfFont {
  const toUnicode = readToUnicode(doc, dict.get("ToUnicode"));
  const descriptor = doc.dict(dict.get("FontDescriptor"));
  const baseFont = String(dict.get("BaseFont") ?? "");
  const embedded = !!descriptor &&
    ["FontFile", "FontFile2", "FontFile3"].some((k) => descriptor.has(k));
  const flags = doc.num(descriptor?.get("Flags"), 0);
  const symbolic = (flags & 4) !== 0 && (flags & 32) === 0;

  // The encoding: a named base, or a dictionary of a base and differences. Without a base, a font
  // that is not embedded reads as StandardEncoding, and an embedded one by the encoding built into
  // its program where that can be read (Type 1's clear text), else by /Differences and ToUnicode.
  const text: (string | undefined)[] = new Array(256).fill(undefined);
  const encoding = doc.get(dict.get("Encoding"));
  const named = encoding instanceof Map ? encoding.get("BaseEncoding") : encoding;
  const implicit = !embedded && !symbolic && dict.get("Subtype") !== "TrueType";
  const base = typeof named === "string"
    ? BASE_ENCODINGS[named]
    : implicit
    ? STANDARD_ENCODING
    : builtInEncoding(doc, descriptor);
  if (base) { for (let c = 0; c < 256; c++) text[c] = base[c] || undefined; }
  const differences = encoding instanceof Map ? doc.get(encoding.get("Differences")) : undefined;
  let code = 0;
  for (const item of Array.isArray(differences) ? differences : []) {
    if (typeof item === "number") code = item;
    else if (typeof item === "string" && code < 256) text[code++] = glyphUnicode(item);
  }
  for (const [c, t] of toUnicode) if (c < 256 && t) text[c] = t;

  const widths = new Float64Array(256);
  const list = doc.get(dict.get("Widths"));
  if (Array.isArray(list)) {
    const first = doc.num(dict.get("FirstChar"), 0);
    widths.fill(doc.num(descriptor?.get("MissingWidth"), 0));
    list.forEach((w, i) => {
      if (first + i >= 0 && first + i < 256) widths[first + i] = doc.num(w, 0);
    });
  } else {
    const metrics = embedded ? undefined : standardFontWidths(baseFont);
    if (!metrics) throw new Unsupported(`font ${baseFont} has no /Widths`);
    for (let c = 0; c < 256; c++) {
      const t = text[c];
      widths[c] = t ? metrics(t.codePointAt(0)!) ?? 0 : 0;
    }
  }
  const [ascent, descent] = verticalMetrics(doc, descriptor);
  return {
    twoByte: false,
    spaceCode: text.indexOf(" "),
    text: (c) => text[c],
    width: (c) => widths[c],
    ascent,
    descent,
  };
}

function compositeFont(doc: PdfDocument, dict: Dict): PdfFont {
  const encoding = doc.get(dict.get("Encoding"));
  if (encoding !== "Identity-H") throw new Unsupported(`CMap ${String(encoding)}`);
  const toUnicode = readToUnicode(doc, dict.get("ToUnicode"));
  if (toUnicode.size === 0) throw new Unsupported("composite font without ToUnicode");
  const kids = doc.get(dict.get("DescendantFonts"));
  const cidFont = doc.dict(Array.isArray(kids) ? kids[0] : undefined);
  if (!cidFont) throw new Unsupported("composite font without a descendant");
  const defaultWidth = doc.num(cidFont.get("DW"), 1000);
  const widths = new Map<number, number>();
  const w = doc.get(cidFont.get("W"));
  if (Array.isArray(w)) {
    for (let i = 0; i < w.length;) {
      const first = doc.num(w[i], -1), next = doc.get(w[i + 1]);
      if (Array.isArray(next)) {
        next.forEach((v, k) => widths.set(first + k, doc.num(v, defaultWidth)));
        i += 2;
      } else {
        const last = doc.num(next, -1), value = doc.num(w[i + 2], defaultWidth);
        for (let c = first; c <= last && c - first < 65536; c++) widths.set(c, value);
        i += 3;
      }
    }
  }
  let spaceCode = -1;
  for (const [c, t] of toUnicode) if (t === " ") spaceCode = c;
  const [ascent, descent] = verticalMetrics(doc, doc.dict(cidFont.get("FontDescriptor")));
  return {
    twoByte: true,
    spaceCode,
    text: (c) => toUnicode.get(c) || undefined,
    width: (c) => widths.get(c) ?? defaultWidth,
    ascent,
    descent,
  };
}

/**
 * The encoding built into an embedded Type 1 program (`/FontFile`), from its clear-text part:
 * `StandardEncoding`, or the `dup code /name put` entries of its own array. Undefined for other
 * programs (CFF, TrueType), whose encodings are binary tables this reader does not parse.
 */
function builtInEncoding(
  doc: PdfDocument,
  descriptor: Dict | undefined,
): readonly string[] | undefined {
  const program = doc.get(descriptor?.get("FontFile"));
  if (!(program instanceof Stream)) return undefined;
  const bytes = doc.decode(program);
  const clear = latin1(bytes.subarray(0, doc.num(program.dict.get("Length1"), bytes.length)));
  const head = clear.slice(0, Math.max(0, clear.indexOf("eexec")) || clear.length);
  if (/\/Encoding\s+StandardEncoding\s+def/.test(head)) return STANDARD_ENCODING;
  const out: string[] = new Array(256).fill("");
  for (const [, code, name] of head.matchAll(/dup\s+(\d+)\s*\/([^\s/\[\]{}()<>]+)\s+put/g)) {
    if (Number(code) < 256) out[Number(code)] = glyphUnicode(name) ?? "";
  }
  return out;
}

/** Ascent and descent from the descriptor, else from its bounding box, else typical values. */
function verticalMetrics(doc: PdfDocument, descriptor: Dict | undefined): [number, number] {
  const ascent = doc.num(descriptor?.get("Ascent"), 0);
  const descent = doc.num(descriptor?.get("Descent"), 0);
  if (ascent > descent) return [ascent, descent];
  const box = doc.get(descriptor?.get("FontBBox"));
  if (Array.isArray(box) && box.length === 4) {
    const [bottom, top] = [doc.num(box[1], 0), doc.num(box[3], 0)];
    if (top > bottom) return [top, bottom];
  }
  return [800, -200];
}

/**
 * A ToUnicode CMap's mappings, code to text (`bfchar` and `bfrange`, both forms). An absent CMap
 * is an empty map; one this reader cannot follow (`usecmap`) throws.
 */
function readToUnicode(doc: PdfDocument, ref: unknown): Map<number, string> {
  const out = new Map<number, string>();
  const stream = doc.get(ref as never);
  if (!(stream instanceof Stream)) return out;
  const lex = new Lexer(doc.decode(stream));
  const operands: unknown[] = [];
  while (lex.skip()) {
    const v = lex.value(false);
    if (!(v instanceof Op)) {
      operands.push(v);
      continue;
    }
    if (v.name === "usecmap") throw new Unsupported("ToUnicode with usecmap");
    if (v.name === "endbfchar") {
      for (let i = 0; i + 1 < operands.length; i += 2) {
        const [src, dst] = [operands[i], operands[i + 1]];
        if (src instanceof Uint8Array && dst instanceof Uint8Array) {
          out.set(bytesValue(src), utf16be(dst));
        }
      }
    } else if (v.name === "endbfrange") {
      for (let i = 0; i + 2 < operands.length; i += 3) {
        const [lo, hi, dst] = operands.slice(i, i + 3);
        if (!(lo instanceof Uint8Array) || !(hi instanceof Uint8Array)) continue;
        const [from, to] = [bytesValue(lo), bytesValue(hi)];
        if (to < from || to - from > 65535) continue;
        if (Array.isArray(dst)) {
          dst.forEach((d, k) => {
            if (d instanceof Uint8Array && from + k <= to) out.set(from + k, utf16be(d));
          });
        } else if (dst instanceof Uint8Array && dst.length >= 2) {
          // The last UTF-16 unit counts up across the range.
          const start = utf16be(dst), head = start.slice(0, -1);
          const last = start.charCodeAt(start.length - 1);
          for (let c = from; c <= to; c++) out.set(c, head + String.fromCharCode(last + c - from));
        }
      }
    }
    if (v.name.startsWith("end") || v.name.startsWith("begin")) operands.length = 0;
  }
  return out;
}

function bytesValue(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

const UTF16BE = new TextDecoder("utf-16be");

function utf16be(b: Uint8Array): string {
  return b.length === 1 ? String.fromCharCode(b[0]) : UTF16BE.decode(b);
}
