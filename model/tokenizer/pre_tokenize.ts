/**
 * GPT-2's pre-tokenizer: text is cut into words, numbers, punctuation runs and whitespace before BPE,
 * and merges never cross these boundaries. This is the pattern the Hugging Face `ByteLevel`
 * pre-tokenizer uses with `use_regex: true`.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Yields the pre-tokens of `text` in order; their concatenation is `text`.
 *
 * @example
 * ```ts
 * [...preTokenize("Hello world!")]; // ["Hello", " world", "!"]
 * ```
 */
export function* preTokenize(text: string): Generator<string> {
  for (let i = 0; i < text.length;) {
    const end = preTokenEnd(text, i);
    yield text.slice(i, end);
    i = end;
  }
}

/** The classes {@linkcode GPT2_PATTERN} tells code points apart by. */
const LETTER = 1, NUMBER = 2, SPACE = 3, OTHER = 4;

/** Class of each code point, found as it is first met (0 until then): 1.1 MB, a byte each. */
const CLASS = new Uint8Array(0x110000);

function classify(char: string): number {
  if (/\p{L}/u.test(char)) return LETTER;
  if (/\p{N}/u.test(char)) return NUMBER;
  return /\s/u.test(char) ? SPACE : OTHER;
}

for (let c = 0; c < 0x80; c++) CLASS[c] = classify(String.fromCharCode(c));

/** Class of the code point at `i`, a surrogate pair as one, a lone surrogate as itself. */
function classAt(text: string, i: number): number {
  const c = text.codePointAt(i)!;
  return CLASS[c] || (CLASS[c] = classify(String.fromCodePoint(c)));
}

/** UTF-16 units of the code point at `i`. */
function unitsAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
}

/**
 * Where the pre-token that starts at `i` ends: the match of {@linkcode GPT2_PATTERN} at `i`,
 * found without a regular expression, which would make a string of every match.
 *
 * @example
 * ```ts
 * preTokenEnd("Hello world!", 5); // 11: " world"
 * ```
 */
export function preTokenEnd(text: string, i: number): number {
  const n = text.length, c = text.charCodeAt(i);
  if (c === 0x27 && i + 1 < n) { // 's 't 'm 'd 're 've 'll
    const d = text.charCodeAt(i + 1);
    if (d === 0x73 || d === 0x74 || d === 0x6d || d === 0x64) return i + 2;
    const e = text.charCodeAt(i + 2);
    if ((e === 0x65 && (d === 0x72 || d === 0x76)) || (d === 0x6c && e === 0x6c)) return i + 3;
  }
  let from = i, cls = c < 0x80 ? CLASS[c] : classAt(text, i);
  if (c === 0x20 && i + 1 < n) { // a space joins the letters, digits or symbols after it
    const next = classAt(text, i + 1);
    if (next !== SPACE) (from = i + 1, cls = next);
  }
  let end = from + unitsAt(text, from);
  while (end < n) {
    const d = text.charCodeAt(end);
    if ((d < 0x80 ? CLASS[d] : classAt(text, end)) !== cls) break;
    end += d < 0xd800 ? 1 : unitsAt(text, end);
  }
  // White space before a word leaves its last character to that word (`\s+(?!\S)`), unless that
  // is all there is (`\s+`); white space that ends the text is one pre-token.
  if (cls === SPACE && end < n && end - i > 1) return end - 1;
  return end;
}
