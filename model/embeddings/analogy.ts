/**
 * Word analogies by vector arithmetic: the tokens nearest e(A) − e(B) + e(C), as in
 * king − man + woman ≈ queen. The inputs' own tokens are excluded, because e(A) − e(B) + e(C) is
 * usually nearest to A or C themselves and the question is what else lies there.
 *
 * @example
 * ```ts
 * const { neighbours } = analogy(table, "king", "man", "woman", { k: 5 });
 * ```
 */
import { nearestTokens, type Neighbour } from "./cosine.ts";
import type { TokenEmbeddings, WordOptions, WordVector } from "./token_embeddings.ts";

/** The three inputs as embedded, the query vector, and its neighbours. */
export interface AnalogyResult {
  inputs: [WordVector, WordVector, WordVector];
  query: Float64Array;
  neighbours: Neighbour[];
}

/** Nearest tokens to e(a) − e(b) + e(c), excluding every token of a, b and c. */
export function analogy(
  table: TokenEmbeddings,
  a: string,
  b: string,
  c: string,
  options: WordOptions & { k?: number } = {},
): AnalogyResult {
  const inputs = [a, b, c].map((w) => table.word(w, options)) as AnalogyResult["inputs"];
  const query = new Float64Array(table.width);
  for (let j = 0; j < table.width; j++) {
    query[j] = inputs[0].vector[j] - inputs[1].vector[j] + inputs[2].vector[j];
  }
  const exclude = inputs.flatMap((w) => w.ids);
  return { inputs, query, neighbours: nearestTokens(table, query, { k: options.k, exclude }) };
}
