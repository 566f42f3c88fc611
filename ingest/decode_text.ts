/** Text decoded from bytes, with what it took. */
export interface DecodedText {
  text: string;
  /** WHATWG encoding label used. */
  encoding: string;
  /** Invalid UTF-8 sequences replaced by U+FFFD (0 for other encodings). */
  invalidSequences: number;
}

/**
 * Decodes text: UTF-16 by byte-order mark, else UTF-8 with invalid sequences replaced by U+FFFD
 * and counted. When more than 5% of the characters would be replacements the file is not UTF-8:
 * it is read as windows-1252 (the usual legacy encoding of Western text), which maps every byte.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return {
      text: new TextDecoder("utf-16le").decode(bytes),
      encoding: "utf-16le",
      invalidSequences: 0,
    };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return {
      text: new TextDecoder("utf-16be").decode(bytes),
      encoding: "utf-16be",
      invalidSequences: 0,
    };
  }
  const text = new TextDecoder("utf-8").decode(bytes); // strips a UTF-8 BOM
  const replaced = countChar(text, 0xfffd) - countReplacementBytes(bytes);
  if (replaced > 0 && replaced > text.length * 0.05) {
    return {
      text: new TextDecoder("windows-1252").decode(bytes),
      encoding: "windows-1252",
      invalidSequences: 0,
    };
  }
  return { text, encoding: "utf-8", invalidSequences: replaced };
}

function countChar(text: string, code: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === code) n++;
  return n;
}

/** U+FFFD written literally in the file (EF BF BD) is not a decoding error. */
function countReplacementBytes(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === 0xef && b[i + 1] === 0xbf && b[i + 2] === 0xbd) n++;
  }
  return n;
}
