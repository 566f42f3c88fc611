/**
 * Cosine similarity, and the tokens nearest a vector by it. Cosine compares directions only: a
 * frequent token's row tends to be longer than a rare one's, and length should not decide which
 * tokens look alike.
 *
 * @example
 * ```ts
 * cosineSimilarity([1, 0], [1, 1]); // 0.7071…
 * nearestTokens(table, table.word("king").vector, { k: 5 }); // [{ id, token, score }, …] descending
 * ```
 */
import type { TokenEmbeddings } from "./token_embeddings.ts";

/** cos θ = a·b / (|a| |b|), in float64; 0 when either vector is zero. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`Vectors differ in length: ${a.length} and ${b.length}`);
  }
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** One neighbour. */
export interface Neighbour {
  id: number;
  token: string;
  score: number;
}

/** Options for {@linkcode nearestTokens}. */
export interface NearestOptions {
  /** How many (default 10). */
  k?: number;
  /** Token ids left out (the query's own tokens, an analogy's inputs). */
  exclude?: Iterable<number>;
}

/** The `k` rows with the highest cosine similarity to `vector`, sorted descending (ties by id). */
export function nearestTokens(
  table: TokenEmbeddings,
  vector: ArrayLike<number>,
  options: NearestOptions = {},
): Neighbour[] {
  const k = options.k ?? 10;
  const exclude = new Set(options.exclude ?? []);
  let qn = 0;
  for (let j = 0; j < vector.length; j++) qn += vector[j] * vector[j];
  qn = Math.sqrt(qn);
  const scored: { id: number; score: number }[] = [];
  const { matrix, width, norms } = table;
  for (let id = 0; id < table.vocabSize; id++) {
    if (exclude.has(id)) continue;
    let dot = 0;
    for (let j = 0; j < width; j++) dot += matrix[id * width + j] * vector[j];
    const d = norms[id] * qn;
    scored.push({ id, score: d === 0 ? 0 : dot / d });
  }
  scored.sort((x, y) => y.score - x.score || x.id - y.id);
  return scored.slice(0, k).map(({ id, score }) => ({ id, token: table.tokenText(id), score }));
}

/** The matrix of pairwise cosine similarities of `vectors` (symmetric, ones on the diagonal). */
export function cosineMatrix(vectors: readonly ArrayLike<number>[]): number[][] {
  return vectors.map((a, i) =>
    vectors.map((b, j) => i === j && a.length > 0 ? 1 : cosineSimilarity(a, b))
  );
}
