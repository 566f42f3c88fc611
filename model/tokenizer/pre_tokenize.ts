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
  const re = new RegExp(GPT2_PATTERN.source, "gu");
  for (const m of text.matchAll(re)) yield m[0];
}
