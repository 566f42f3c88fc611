/**
 * PDF's object syntax (ISO 32000 section 7.3) read from bytes: numbers, names, strings, arrays,
 * dictionaries and indirect references. Names become JS strings, strings stay bytes (their meaning
 * depends on the font that shows them), so the two never mix.
 */

/**
 * An indirect reference, `12 0 R`. The generation number is read past, not kept: a file's newest
 * cross-reference section says which object a number stands for.
 */
export class Ref {
  constructor(readonly num: number) {}
}

/** A dictionary; keys are names without the slash. */
export type Dict = Map<string, PdfValue>;

/** Any PDF object. A keyword the parser does not know comes back as an {@linkcode Op}. */
export type PdfValue = number | boolean | null | string | Uint8Array | Ref | PdfValue[] | Dict | Op;

/** A bare keyword: an operator in a content stream, or `obj`, `stream`, `endobj` in a file. */
export class Op {
  constructor(readonly name: string) {}
}

/** Input the fast reader does not take on; its caller reads the document another way. */
export class Unsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Unsupported";
  }
}

/** Byte classes: 1 white space, 2 delimiter, 0 regular. */
const CLASS = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32]) CLASS[c] = 1;
for (const c of "()<>[]{}/%") CLASS[c.charCodeAt(0)] = 2;

const LATIN1 = new TextDecoder("latin1");

/** `bytes` as Latin-1 text: PDF's keywords, names and headers are bytes, one character each. */
export function latin1(bytes: Uint8Array): string {
  return LATIN1.decode(bytes);
}
/** `\n`, `\r`, `\t`, `\b` and `\f` in a literal string: the byte each escape stands for. */
const ESCAPES: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12 };
/**
 * Keywords seen so far, one object each: a content stream repeats a few dozen operators. Capped,
 * so that a file of made-up words cannot grow it without end.
 */
const OPERATORS = new Map<string, Op>(), MAX_OPERATORS = 1024;

/** A cursor over PDF bytes that reads one object at a time. */
export class Lexer {
  pos: number;
  constructor(readonly bytes: Uint8Array, pos = 0) {
    this.pos = pos;
  }

  /** Skips white space and comments; false at the end of the bytes. */
  skip(): boolean {
    const b = this.bytes, n = b.length;
    let p = this.pos;
    while (p < n) {
      const c = b[p];
      if (CLASS[c] === 1) p++;
      else if (c === 0x25) { // % comment to the end of the line
        while (p < n && b[p] !== 10 && b[p] !== 13) p++;
      } else break;
    }
    this.pos = p;
    return p < n;
  }

  /**
   * The next object, with `n g R` read as a {@linkcode Ref} when `refs` is set (never in a content
   * stream, where `R` is not an operator but `RG` is). Throws at the end of the bytes.
   */
  value(refs = true): PdfValue {
    if (!this.skip()) throw new Unsupported("unexpected end of data");
    const b = this.bytes, c = b[this.pos];
    switch (c) {
      case 0x2f: // /
        return this.name();
      case 0x28: // (
        return this.literal();
      case 0x3c: // < or <<
        if (b[this.pos + 1] === 0x3c) {
          this.pos += 2;
          return this.dict(refs);
        }
        return this.hex();
      case 0x5b: { // [
        this.pos++;
        const out: PdfValue[] = [];
        while (this.skip() && b[this.pos] !== 0x5d) out.push(this.value(refs));
        this.pos++;
        return out;
      }
      case 0x5d: // a stray ] or >> or } : consume, and let the caller see an operator
      case 0x3e:
      case 0x7b:
      case 0x7d:
        this.pos++;
        return new Op(String.fromCharCode(c));
    }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      const num = this.number();
      if (!refs || !Number.isInteger(num)) return num;
      const save = this.pos;
      if (this.skip() && isDigit(b[this.pos])) {
        this.number(); // the generation
        if (this.skip() && b[this.pos] === 0x52 && CLASS[b[this.pos + 1] ?? 32] !== 0) {
          this.pos++;
          return new Ref(num);
        }
      }
      this.pos = save;
      return num;
    }
    const word = this.word();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    let op = OPERATORS.get(word);
    if (!op) {
      op = new Op(word);
      if (OPERATORS.size < MAX_OPERATORS) OPERATORS.set(word, op);
    }
    return op;
  }

  /** A run of regular characters. */
  word(): string {
    const b = this.bytes, start = this.pos;
    let p = start;
    while (p < b.length && CLASS[b[p]] === 0) p++;
    this.pos = p === start ? p + 1 : p; // a lone delimiter such as ")" still moves on
    if (this.pos - start > 8) return LATIN1.decode(b.subarray(start, this.pos));
    let s = "";
    for (let i = start; i < this.pos; i++) s += String.fromCharCode(b[i]);
    return s;
  }

  number(): number {
    const b = this.bytes;
    let p = this.pos, sign = 1, value = 0, scale = 0;
    if (b[p] === 0x2d) (sign = -1, p++);
    else if (b[p] === 0x2b) p++;
    for (; p < b.length; p++) {
      const c = b[p];
      if (c >= 0x30 && c <= 0x39) {
        value = value * 10 + c - 0x30;
        if (scale) scale *= 10;
      } else if (c === 0x2e && !scale) scale = 1;
      else if (c === 0x2d) continue; // "--5" and "5-" as some writers emit: read as 5
      else break;
    }
    this.pos = p;
    return sign * (scale ? value / scale : value);
  }

  name(): string {
    const b = this.bytes;
    let p = ++this.pos, s = "";
    while (p < b.length && CLASS[b[p]] === 0) {
      const c = b[p];
      if (c === 0x23 && isHex(b[p + 1]) && isHex(b[p + 2])) {
        s += String.fromCharCode(hexValue(b[p + 1]) * 16 + hexValue(b[p + 2]));
        p += 3;
      } else {
        s += String.fromCharCode(c);
        p++;
      }
    }
    this.pos = p;
    return s;
  }

  literal(): Uint8Array {
    const b = this.bytes;
    // Most strings have no escapes and no nested parentheses: a view of the bytes will do.
    for (let p = this.pos + 1; p < b.length; p++) {
      const c = b[p];
      if (c === 0x29) {
        const out = b.subarray(this.pos + 1, p);
        this.pos = p + 1;
        return out;
      }
      if (c === 0x5c || c === 0x28 || c === 13) break;
    }
    const out: number[] = [];
    let p = this.pos + 1, depth = 1;
    while (p < b.length) {
      let c = b[p++];
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      else if (c === 0x5c) {
        c = b[p++];
        const escaped = ESCAPES[c];
        if (escaped !== undefined) c = escaped;
        else if (c === 13 || c === 10) { // a line continuation
          if (c === 13 && b[p] === 10) p++;
          continue;
        } else if (c >= 0x30 && c <= 0x37) {
          let v = c - 0x30;
          for (let k = 0; k < 2 && b[p] >= 0x30 && b[p] <= 0x37; k++) v = v * 8 + b[p++] - 0x30;
          c = v & 0xff;
        }
      }
      out.push(c);
    }
    this.pos = p;
    return Uint8Array.from(out);
  }

  hex(): Uint8Array {
    const b = this.bytes, out: number[] = [];
    let p = this.pos + 1, high = -1;
    for (; p < b.length && b[p] !== 0x3e; p++) {
      if (!isHex(b[p])) continue;
      if (high < 0) high = hexValue(b[p]);
      else {
        out.push(high * 16 + hexValue(b[p]));
        high = -1;
      }
    }
    if (high >= 0) out.push(high * 16);
    this.pos = p + 1;
    return Uint8Array.from(out);
  }

  dict(refs: boolean): Dict {
    const b = this.bytes, out: Dict = new Map();
    while (this.skip()) {
      if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return out;
      }
      const key = this.value(refs);
      if (typeof key !== "string") throw new Unsupported("a dictionary key is not a name");
      out.set(key, this.value(refs));
    }
    throw new Unsupported("unterminated dictionary");
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** Whether byte `c` is PDF white space. */
export function isWhite(c: number): boolean {
  return CLASS[c] === 1;
}

/** Whether byte `c` ends a keyword: white space or a delimiter. */
export function endsWord(c: number | undefined): boolean {
  return c === undefined || CLASS[c] !== 0;
}
