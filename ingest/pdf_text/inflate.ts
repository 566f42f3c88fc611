/**
 * zlib inflate (RFC 1950 around RFC 1951's DEFLATE), for FlateDecode streams. It is written here
 * because `node:zlib` brings Deno's Node polyfills with it, which take 35 to 50 ms to load in each
 * worker thread. It is as lenient as PDF readers are: the Adler-32 checksum is not checked, and a
 * stream cut short gives what it decoded up to the cut.
 */

// deno-fmt-ignore
/** Length codes 257…285: base lengths and extra bits. */
const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
  163, 195, 227, 258,
];
// deno-fmt-ignore
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
// deno-fmt-ignore
/** Distance codes 0…29: base distances and extra bits. */
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
  3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
// deno-fmt-ignore
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order the code lengths of the code-length code are sent in. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Bits a code's table is indexed by: longer codes are rare symbols, decoded bit by bit. */
const ROOT_BITS = 10, ROOT_MASK = (1 << ROOT_BITS) - 1;

/**
 * The 24 bits of `d` from bit `at` on, least significant first. Past the end a typed array reads
 * undefined, which the bit operators take as 0.
 */
function peek(d: Uint8Array, at: number): number {
  const i = at >> 3;
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)) >>> (at & 7);
}

/**
 * A canonical Huffman code. `table`, indexed by the next {@linkcode ROOT_BITS} bits of input
 * (least significant first), gives a short code's symbol shifted left by 4 and its length, and 0
 * where the code is longer (or none); `counts` and `symbols` decode those as RFC 1951 defines.
 */
interface Code {
  table: Uint16Array;
  /** Codes of each length, 0 to 15. */
  counts: Uint16Array;
  /** The symbols in code order. */
  symbols: Uint16Array;
}

/** The canonical code of `lengths`; throws when the lengths over-fill the code space. */
function buildCode(lengths: ArrayLike<number>): Code {
  const counts = new Uint16Array(16);
  for (let i = 0; i < lengths.length; i++) counts[lengths[i]]++;
  counts[0] = 0;
  const next = new Uint16Array(16), offsets = new Uint16Array(16);
  for (let len = 1, code = 0, left = 1; len <= 15; len++) {
    left = (left << 1) - counts[len];
    if (left < 0) throw new Error("invalid Huffman code lengths");
    next[len] = code = (code + counts[len - 1]) << 1;
    if (len < 15) offsets[len + 1] = offsets[len] + counts[len];
  }
  const table = new Uint16Array(1 << ROOT_BITS);
  const symbols = new Uint16Array(lengths.length);
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym];
    if (!len) continue;
    symbols[offsets[len]++] = sym;
    if (len > ROOT_BITS) continue;
    let code = next[len]++, reversed = 0;
    for (let k = 0; k < len; k++, code >>= 1) reversed = (reversed << 1) | (code & 1);
    for (let k = reversed; k < table.length; k += 1 << len) table[k] = (sym << 4) | len;
  }
  return { table, counts, symbols };
}

/**
 * The symbol of `code` at bit `pos` of `d`, one bit at a time, as `table` entries are: 0 when no
 * code of 15 bits or fewer matches.
 */
function slowSymbol(d: Uint8Array, pos: number, code: Code): number {
  const { counts, symbols } = code;
  for (let len = 1, value = 0, first = 0, index = 0; len <= 15; len++, pos++) {
    value |= (d[pos >> 3] >> (pos & 7)) & 1;
    const count = counts[len];
    if (value - first < count) return (symbols[index + value - first] << 4) | len;
    index += count;
    first = (first + count) << 1;
    value <<= 1;
  }
  return 0;
}

let fixed: [Code, Code] | undefined;

/** The fixed codes of block type 1. */
function fixedCodes(): [Code, Code] {
  if (!fixed) {
    const lengths = new Uint8Array(288);
    lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixed = [buildCode(lengths), buildCode(new Uint8Array(30).fill(5))];
  }
  return fixed;
}

/**
 * Inflates a zlib stream; throws on a malformed one, or when it would inflate past `maxOutput`
 * bytes.
 *
 * @example
 * ```ts
 * inflate(new Uint8Array(deflateSync("hello")), 1 << 20); // the bytes of "hello"
 * ```
 */
export function inflate(data: Uint8Array, maxOutput: number): Uint8Array {
  if (data.length < 2 || (data[0] & 15) !== 8 || ((data[0] << 8) | data[1]) % 31 !== 0) {
    throw new Error("incorrect zlib header");
  }
  if (data[1] & 32) throw new Error("a preset dictionary is not supported");
  const s = new Inflater(data, maxOutput);
  for (let last = 0; !last && s.pos + 3 <= s.end;) {
    last = s.bits(1);
    const type = s.bits(2);
    if (type === 0) {
      if (!s.stored()) break;
      continue;
    }
    if (type === 3) throw new Error("invalid block type");
    const codes = type === 1 ? fixedCodes() : s.dynamicCodes();
    if (!codes || !s.block(codes[0], codes[1])) break;
  }
  return s.out.subarray(0, s.n);
}

/** Inflate's state: the input, how far it has been read (in bits), and the output so far. */
class Inflater {
  /** Where the input ends, in bits: a symbol that reaches past it is not kept. */
  readonly end: number;
  pos = 16; // past the zlib header
  out: Uint8Array;
  n = 0;

  constructor(readonly d: Uint8Array, readonly maxOutput: number) {
    this.end = d.length * 8;
    // Page content inflates to four or five times its size.
    this.out = new Uint8Array(Math.min(maxOutput, Math.max(1024, d.length * 5)));
  }

  /** The next `count` bits (up to 16), least significant first. */
  bits(count: number): number {
    const value = peek(this.d, this.pos) & ((1 << count) - 1);
    this.pos += count;
    return value;
  }

  /** The next symbol of `code`, or -1 when the input ends before it does. */
  symbol(code: Code): number {
    const entry = code.table[peek(this.d, this.pos) & ROOT_MASK] ||
      slowSymbol(this.d, this.pos, code);
    return this.#take(entry);
  }

  /** Moves past a decoded `entry`: its symbol, -1 past the end, or throws where none matched. */
  #take(entry: number): number {
    const length = entry & 15;
    if (length === 0) {
      if (this.pos + 15 > this.end) return -1; // zero bits past the end may match no code
      throw new Error("invalid Huffman code");
    }
    if (this.pos + length > this.end) return -1;
    this.pos += length;
    return entry >> 4;
  }

  /** Makes room for `more` bytes of output. */
  room(more: number): void {
    const need = this.n + more;
    if (need <= this.out.length) return;
    if (need > this.maxOutput) throw new RangeError(`inflates past ${this.maxOutput} bytes`);
    const grown = new Uint8Array(Math.min(this.maxOutput, Math.max(need, this.out.length * 2)));
    grown.set(this.out.subarray(0, this.n));
    this.out = grown;
  }

  /** A stored block: its length, the length's complement, the bytes. False when cut short. */
  stored(): boolean {
    const at = (this.pos + 7) >> 3, d = this.d;
    if (at + 4 > d.length) return false;
    const len = d[at] | (d[at + 1] << 8);
    if ((len ^ (d[at + 2] | (d[at + 3] << 8))) !== 0xffff) {
      throw new Error("invalid stored block lengths");
    }
    const take = Math.min(len, d.length - at - 4);
    this.room(take);
    this.out.set(d.subarray(at + 4, at + 4 + take), this.n);
    this.n += take;
    this.pos = (at + 4 + len) * 8;
    return take === len;
  }

  /** A dynamic block's literal/length and distance codes, or undefined when cut short. */
  dynamicCodes(): [Code, Code] | undefined {
    const nLit = this.bits(5) + 257, nDist = this.bits(5) + 1, nClen = this.bits(4) + 4;
    const clen = new Uint8Array(19);
    for (let i = 0; i < nClen; i++) clen[CLEN_ORDER[i]] = this.bits(3);
    if (this.pos > this.end) return undefined;
    const lenCode = buildCode(clen);
    const lengths = new Uint8Array(nLit + nDist);
    for (let i = 0; i < lengths.length;) {
      const sym = this.symbol(lenCode);
      if (sym < 0) return undefined;
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      const repeat = sym === 16
        ? 3 + this.bits(2)
        : sym === 17
        ? 3 + this.bits(3)
        : 11 + this.bits(7);
      if (this.pos > this.end) return undefined;
      if ((sym === 16 && i === 0) || i + repeat > lengths.length) {
        throw new Error("invalid code lengths");
      }
      lengths.fill(sym === 16 ? lengths[i - 1] : 0, i, i + repeat);
      i += repeat;
    }
    return [buildCode(lengths.subarray(0, nLit)), buildCode(lengths.subarray(nLit))];
  }

  /**
   * A Huffman-coded block up to its end code; false when cut short. The hot loop of inflate, so
   * short codes are read and bytes written here rather than through `symbol` and `room`.
   */
  block(lit: Code, dist: Code): boolean {
    const d = this.d, litTable = lit.table;
    let pos = this.pos, n = this.n, out = this.out;
    for (;;) {
      let entry = litTable[peek(d, pos) & ROOT_MASK];
      if (!entry || pos + (entry & 15) > this.end) {
        this.pos = pos;
        const sym = this.symbol(lit);
        if (sym < 0) break;
        pos = this.pos;
        entry = sym << 4;
      } else pos += entry & 15;
      const sym = entry >> 4;
      if (sym < 256) {
        if (n === out.length) {
          this.n = n;
          this.room(1);
          out = this.out;
        }
        out[n++] = sym;
        continue;
      }
      if (sym === 256) {
        this.pos = pos;
        this.n = n;
        return true;
      }
      if (sym > 285) throw new Error("invalid length code");
      const lengthBits = LENGTH_EXTRA[sym - 257];
      const length = LENGTH_BASE[sym - 257] + (peek(d, pos) & ((1 << lengthBits) - 1));
      this.pos = pos + lengthBits;
      const code = this.symbol(dist);
      if (code < 0) break;
      if (code > 29) throw new Error("invalid distance code");
      pos = this.pos;
      const distBits = DIST_EXTRA[code];
      const distance = DIST_BASE[code] + (peek(d, pos) & ((1 << distBits) - 1));
      pos += distBits;
      if (pos > this.end) break;
      if (distance > n) throw new Error("invalid distance too far back");
      if (n + length > out.length) {
        this.n = n;
        this.room(length);
        out = this.out;
      }
      for (const stop = n + length; n < stop; n++) out[n] = out[n - distance];
    }
    this.n = n; // cut short: what was decoded up to the cut stays
    return false;
  }
}
