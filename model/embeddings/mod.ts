/**
 * Looking inside a checkpoint's embeddings: nearest tokens by cosine similarity, analogies,
 * similarity matrices, PCA projections and the positional table. Words that are several tokens are
 * embedded as the mean of their tokens' rows, and every result carries the pieces so callers can
 * say so.
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from "../checkpoint/mod.ts";
 * import { nearestTokens, TokenEmbeddings } from "./mod.ts";
 * const table = TokenEmbeddings.fromCheckpoint(await loadCheckpoint("runs/a"));
 * const king = table.word("king");
 * nearestTokens(table, king.vector, { k: 5, exclude: king.ids });
 * ```
 *
 * @module
 */
export { TOKEN_EMBEDDING, TokenEmbeddings } from "./token_embeddings.ts";
export type { TokenCodec, WordOptions, WordVector } from "./token_embeddings.ts";
export { cosineMatrix, cosineSimilarity, nearestTokens } from "./cosine.ts";
export type { NearestOptions, Neighbour } from "./cosine.ts";
export { analogy } from "./analogy.ts";
export type { AnalogyResult } from "./analogy.ts";
export { pca } from "./pca.ts";
export type { PcaResult } from "./pca.ts";
export { POSITION_EMBEDDING, positionalTable } from "./positional_table.ts";
export type { PositionalTable } from "./positional_table.ts";
export { positionalHeatmapSvg, positionSimilaritySvg, projectionSvg, wordLabel } from "./plots.ts";
export { tsne } from "./tsne.ts";
export type { TsneOptions, TsneResult } from "./tsne.ts";
export { EXPLORE_COMMANDS, exploreEmbeddings } from "./explore.ts";
export type { ExploreCommand, ExploreRequest, ExploreResult } from "./explore.ts";
