/**
 * A PDF file's objects, found through its cross-reference sections (tables and streams, with their
 * `/Prev` chain and object streams), and its pages in order with their inherited resources. Only
 * well-formed, unencrypted files are taken: anything else throws {@linkcode Unsupported}, and the
 * caller hands the file to PDFium, which repairs what it can.
 */
import { inflate } from "./inflate.ts";
import {
  type Dict,
  endsWord,
  latin1,
  Lexer,
  Op,
  type PdfValue,
  Ref,
  Unsupported,
} from "./syntax.ts";

/** A stream object: its dictionary and its bytes as stored. */
export class Stream {
  constructor(readonly dict: Dict, readonly raw: Uint8Array) {}
}

/** What a cross-reference entry says of an object: where it starts, or which object stream holds it. */
type XrefEntry = { offset: number } | { inStream: number; index: number };

/** A page: its dictionary with what it inherits from the page tree resolved. */
export interface PageRef {
  dict: Dict;
  resources: Dict | undefined;
  /** Degrees the page is turned when shown. */
  rotate: number;
}

/** Deepest page tree, and how far `Do` may nest forms, before a file counts as malformed. */
const MAX_DEPTH = 64;

export class PdfDocument {
  readonly #bytes: Uint8Array;
  readonly #xref = new Map<number, XrefEntry>();
  readonly #cache = new Map<number, PdfValue | Stream>();
  readonly #objectStreams = new Map<number, { offsets: number[]; lexer: Lexer }>();
  readonly pages: PageRef[] = [];

  /** Reads the cross-reference sections and the page tree; throws {@linkcode Unsupported}. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    const trailer = this.#readXref(startXref(bytes));
    if (trailer.has("Encrypt")) throw new Unsupported("encrypted");
    const root = this.get(trailer.get("Root"));
    if (!(root instanceof Map)) throw new Unsupported("no document catalog");
    this.#walkPages(this.get(root.get("Pages")), { resources: undefined, rotate: 0 }, new Set(), 0);
  }

  /** `value` with a reference followed (once: a reference to a reference is malformed). */
  get(value: PdfValue | Stream | undefined): PdfValue | Stream | undefined {
    return value instanceof Ref ? this.#object(value.num) : value;
  }

  /** A dictionary, or a stream's dictionary, at `value`; undefined when it is neither. */
  dict(value: PdfValue | Stream | undefined): Dict | undefined {
    const v = this.get(value);
    return v instanceof Map ? v : v instanceof Stream ? v.dict : undefined;
  }

  /** A number at `value`, or `fallback`. */
  num(value: PdfValue | Stream | undefined, fallback: number): number {
    const v = this.get(value);
    return typeof v === "number" ? v : fallback;
  }

  /** Object `num`; null when the file does not have it, as the format says. */
  #object(num: number): PdfValue | Stream {
    const cached = this.#cache.get(num);
    if (cached !== undefined) return cached;
    const entry = this.#xref.get(num);
    let value: PdfValue | Stream = null;
    if (entry && "offset" in entry) value = this.#readAt(entry.offset, num);
    else if (entry) value = this.#fromObjectStream(entry.inStream, entry.index);
    this.#cache.set(num, value);
    return value;
  }

  /** A stream's bytes with its filters undone: Flate and ASCII85 (and none) are taken. */
  decode(stream: Stream): Uint8Array {
    const filter = this.get(stream.dict.get("Filter"));
    const parm = this.get(stream.dict.get("DecodeParms"));
    if (filter === undefined || filter === null) return stream.raw;
    const filters = Array.isArray(filter) ? filter : [filter];
    const parms = Array.isArray(parm) ? parm : [parm];
    let data = stream.raw;
    filters.forEach((f, i) => {
      if (f === "ASCII85Decode" || f === "A85") {
        data = ascii85(data);
        return;
      }
      if (f !== "FlateDecode" && f !== "Fl") throw new Unsupported(`filter ${String(f)}`);
      data = inflateStream(data);
      const p = this.dict(parms[i] as PdfValue | Stream | undefined);
      const predictor = this.num(p?.get("Predictor"), 1);
      if (predictor >= 10) data = unpredictPng(data, this.num(p?.get("Columns"), 1), p, this);
      else if (predictor !== 1) throw new Unsupported(`predictor ${predictor}`);
    });
    return data;
  }

  #readAt(offset: number, num: number): PdfValue | Stream {
    const lex = new Lexer(this.#bytes, offset);
    const n = lex.value(false), g = lex.value(false), kw = lex.value(false);
    if (n !== num || typeof g !== "number" || !(kw instanceof Op && kw.name === "obj")) {
      throw new Unsupported(`object ${num} is not at offset ${offset}`);
    }
    const value = lex.value();
    if (!(value instanceof Map) || !lex.skip() || lex.word() !== "stream") return value;
    const b = this.#bytes;
    let start = lex.pos;
    if (b[start] === 13) start++;
    if (b[start] === 10) start++;
    const length = this.get(value.get("Length"));
    if (typeof length !== "number" || !hasEndstream(b, start + length)) {
      throw new Unsupported(`stream ${num} has a wrong /Length`);
    }
    return new Stream(value, b.subarray(start, start + length));
  }

  #fromObjectStream(streamNum: number, index: number): PdfValue | Stream {
    let holder = this.#objectStreams.get(streamNum);
    if (!holder) {
      const s = this.#object(streamNum);
      if (!(s instanceof Stream)) throw new Unsupported(`object stream ${streamNum} missing`);
      const data = this.decode(s);
      const count = this.num(s.dict.get("N"), 0), first = this.num(s.dict.get("First"), 0);
      const head = new Lexer(data), offsets: number[] = [];
      for (let i = 0; i < count; i++) {
        head.value(false);
        offsets.push(first + (head.value(false) as number));
      }
      holder = { offsets, lexer: new Lexer(data) };
      this.#objectStreams.set(streamNum, holder);
    }
    const at = holder.offsets[index];
    if (at === undefined) return null;
    holder.lexer.pos = at;
    return holder.lexer.value();
  }

  /** Reads the sections from `offset` back through `/Prev`; returns the newest trailer. */
  #readXref(offset: number): Dict {
    let trailer: Dict | undefined;
    const seen = new Set<number>();
    for (let at: number | undefined = offset; at !== undefined;) {
      if (seen.has(at)) throw new Unsupported("cross-reference sections form a loop");
      seen.add(at);
      const section = this.#readSection(at);
      trailer ??= section;
      const stm = section.get("XRefStm");
      if (typeof stm === "number") this.#readSection(stm);
      const prev = section.get("Prev");
      at = typeof prev === "number" ? prev : undefined;
    }
    return trailer!;
  }

  /** One section, table or stream; entries already known (from newer sections) are kept. */
  #readSection(offset: number): Dict {
    const lex = new Lexer(this.#bytes, offset);
    lex.skip();
    if (lex.word() !== "xref") return this.#readXrefStream(offset);
    for (;;) {
      const first = lex.value(false);
      if (first instanceof Op && first.name === "trailer") break;
      const count = lex.value(false);
      if (typeof first !== "number" || typeof count !== "number") {
        throw new Unsupported("malformed cross-reference table");
      }
      for (let i = 0; i < count; i++) {
        const off = lex.value(false), _gen = lex.value(false), kind = lex.value(false);
        if (typeof off !== "number" || !(kind instanceof Op)) {
          throw new Unsupported("malformed cross-reference entry");
        }
        // Free entries are passed over: a hybrid file's table lists its compressed objects as
        // free, and its cross-reference stream then says where they are.
        if (kind.name === "n" && !this.#xref.has(first + i)) {
          this.#xref.set(first + i, { offset: off });
        }
      }
    }
    const trailer = lex.value();
    if (!(trailer instanceof Map)) throw new Unsupported("no trailer");
    return trailer;
  }

  #readXrefStream(offset: number): Dict {
    const lex = new Lexer(this.#bytes, offset);
    const num = lex.value(false);
    if (typeof num !== "number") throw new Unsupported("no cross-reference at startxref");
    const s = this.#readAt(offset, num);
    if (!(s instanceof Stream) || s.dict.get("Type") !== "XRef") {
      throw new Unsupported("no cross-reference at startxref");
    }
    const w = s.dict.get("W");
    if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => typeof x === "number")) {
      throw new Unsupported("malformed /W");
    }
    const [w0, w1, w2] = w as number[];
    const size = this.num(s.dict.get("Size"), 0);
    const index = (s.dict.get("Index") as number[] | undefined) ?? [0, size];
    const data = this.decode(s);
    let p = 0;
    const field = (width: number, fallback: number) => {
      if (!width) return fallback;
      let v = 0;
      for (let k = 0; k < width; k++) v = v * 256 + data[p++];
      return v;
    };
    for (let i = 0; i + 1 < index.length; i += 2) {
      for (let k = 0; k < index[i + 1]; k++) {
        if (p + w0 + w1 + w2 > data.length) throw new Unsupported("short cross-reference stream");
        const type = field(w0, 1), a = field(w1, 0), b = field(w2, 0);
        const n = index[i] + k;
        if (this.#xref.has(n)) continue;
        if (type === 1) this.#xref.set(n, { offset: a });
        else if (type === 2) this.#xref.set(n, { inStream: a, index: b });
      }
    }
    return s.dict;
  }

  #walkPages(
    node: PdfValue | Stream | undefined,
    inherited: Omit<PageRef, "dict">,
    seen: Set<Dict>,
    depth: number,
  ) {
    if (!(node instanceof Map) || seen.has(node) || depth > MAX_DEPTH) {
      throw new Unsupported("malformed page tree");
    }
    seen.add(node);
    const own = {
      resources: this.dict(node.get("Resources")) ?? inherited.resources,
      rotate: this.num(node.get("Rotate"), inherited.rotate),
    };
    const kids = this.get(node.get("Kids"));
    if (node.get("Type") === "Page" || (kids === undefined && node.has("Contents"))) {
      this.pages.push({ dict: node, ...own });
      return;
    }
    if (!Array.isArray(kids)) throw new Unsupported("malformed page tree");
    const before = this.pages.length;
    for (const kid of kids) this.#walkPages(this.get(kid), own, seen, depth + 1);
    const count = node.get("Count");
    if (typeof count === "number" && count !== this.pages.length - before) {
      throw new Unsupported("page tree /Count disagrees with its pages");
    }
  }
}

/** The offset `startxref` names at the end of the file. */
function startXref(bytes: Uint8Array): number {
  const tail = latin1(bytes.subarray(Math.max(0, bytes.length - 1024)));
  const m = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail);
  if (!m) throw new Unsupported("no startxref");
  return Number(m[1]);
}

function hasEndstream(b: Uint8Array, at: number): boolean {
  let p = at;
  while (p < b.length && (b[p] === 10 || b[p] === 13 || b[p] === 32)) p++;
  const word = latin1(b.subarray(p, p + 9));
  return word === "endstream" && endsWord(b[p + 9]);
}

/** Largest stream inflated: past it, a stream is more likely a bomb than a page. */
const MAX_INFLATED = 256 * 1024 * 1024;

/** Inflates, keeping what a stream cut short or missing its checksum still gives, as readers do. */
function inflateStream(data: Uint8Array): Uint8Array {
  try {
    return inflate(data, MAX_INFLATED);
  } catch (err) {
    throw new Unsupported(`bad Flate data: ${(err as Error).message}`);
  }
}

/** ASCII base-85 (`<~` optional, `~>` the end, `z` four zero bytes), white space ignored. */
function ascii85(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length * 4 / 5) + 4);
  let n = 0, group = 0, count = 0;
  let p = data[0] === 0x3c && data[1] === 0x7e ? 2 : 0;
  for (; p < data.length; p++) {
    const c = data[p];
    if (c === 0x7e) break; // ~>
    if (c <= 0x20) continue;
    if (c === 0x7a && count === 0) { // z
      n += 4;
      continue;
    }
    if (c < 0x21 || c > 0x75) throw new Unsupported("bad ASCII85 data");
    group = group * 85 + (c - 0x21);
    if (++count === 5) {
      out[n++] = group >>> 24;
      out[n++] = (group >>> 16) & 0xff;
      out[n++] = (group >>> 8) & 0xff;
      out[n++] = group & 0xff;
      group = count = 0;
    }
  }
  if (count === 1) throw new Unsupported("bad ASCII85 data");
  if (count > 1) {
    for (let k = count; k < 5; k++) group = group * 85 + 84;
    for (let k = 0; k < count - 1; k++) out[n++] = (group >>> (24 - 8 * k)) & 0xff;
  }
  return out.subarray(0, n);
}

/** Undoes PNG row predictors (one filter byte per row), as cross-reference streams use them. */
function unpredictPng(
  data: Uint8Array,
  columns: number,
  parms: Dict | undefined,
  doc: PdfDocument,
) {
  const colors = doc.num(parms?.get("Colors"), 1),
    bits = doc.num(parms?.get("BitsPerComponent"), 8);
  const bpp = Math.max(1, Math.ceil((colors * bits) / 8)),
    row = Math.ceil((columns * colors * bits) / 8);
  const rows = Math.floor(data.length / (row + 1));
  const out = new Uint8Array(rows * row);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (row + 1)], src = r * (row + 1) + 1, at = r * row;
    for (let i = 0; i < row; i++) {
      const left = i >= bpp ? out[at + i - bpp] : 0;
      const up = r > 0 ? out[at - row + i] : 0;
      const upLeft = r > 0 && i >= bpp ? out[at - row + i - bpp] : 0;
      let v = data[src + i];
      if (type === 1) v += left;
      else if (type === 2) v += up;
      else if (type === 3) v += (left + up) >> 1;
      else if (type === 4) {
        const p = left + up - upLeft, pa = Math.abs(p - left), pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        v += pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (type !== 0) throw new Unsupported(`PNG predictor ${type}`);
      out[at + i] = v & 0xff;
    }
  }
  return out;
}
