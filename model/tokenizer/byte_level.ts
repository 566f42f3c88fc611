/**
 * GPT-2's byte-to-unicode table: each of the 256 byte values gets a printable character, so byte
 * sequences can be stored as ordinary strings in `tokenizer.json` ("Ġ" is the byte 0x20, a space).
 * Printable Latin-1 bytes map to themselves; the rest map to U+0100 onwards, in byte order.
 */
export const byteToUnicode: readonly string[] = buildByteToUnicode();

/** The inverse of {@linkcode byteToUnicode}: a character back to its byte value. */
export const unicodeToByte: ReadonlyMap<string, number> = new Map(
  byteToUnicode.map((ch, b) => [ch, b]),
);

/** Bytes to their byte-level string, e.g. `[0x20, 0x61]` → `"Ġa"`. */
export function bytesToTokenString(bytes: Uint8Array | readonly number[]): string {
  let s = "";
  for (const b of bytes) s += byteToUnicode[b];
  return s;
}

/** A byte-level string back to bytes; undefined when a character is not in the table. */
export function tokenStringToBytes(token: string): Uint8Array | undefined {
  const out: number[] = [];
  for (const ch of token) {
    const b = unicodeToByte.get(ch);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return Uint8Array.from(out);
}

function buildByteToUnicode(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(printable(b) ? b : next++);
  }
  return table;
}
