/**
 * The embedding pictures, as SVG documents: a labelled 2-D PCA projection of chosen words, the
 * positional table as a heatmap (positions × dimensions), and position-to-position cosine
 * similarity. Shared by `deno task embeddings` and `deno task docs-images`.
 *
 * @example
 * ```ts
 * const svg = projectionSvg(["king", "queen"].map((w) => table.word(w)), "Token embeddings");
 * ```
 */
import { heatmapSvg, scatterSvg } from "../plot/mod.ts";
import { cosineMatrix } from "./cosine.ts";
import { pca } from "./pca.ts";
import type { PositionalTable } from "./positional_table.ts";
import type { WordVector } from "./token_embeddings.ts";

/** A word's label: the word, with its token count when it is several tokens (a mean). */
export function wordLabel(w: WordVector): string {
  return w.ids.length > 1 ? `${w.word} (mean of ${w.ids.length})` : w.word;
}

/**
 * A PCA scatter of `words`, each point labelled; words split into several tokens form their own
 * legend group, so a reader sees which points are means. Axis labels give each component's share
 * of the variance.
 */
export function projectionSvg(words: readonly WordVector[], title: string): string {
  const { coordinates, explained } = pca(words.map((w) => w.vector), 2);
  const anyMulti = words.some((w) => w.ids.length > 1);
  return scatterSvg({
    title,
    width: 860,
    height: 640,
    xLabel: `PC 1 (${(explained[0] * 100).toFixed(1)}% of variance)`,
    yLabel: `PC 2 (${(explained[1] * 100).toFixed(1)}% of variance)`,
    points: words.map((w, i) => ({
      x: coordinates[i][0],
      y: coordinates[i][1],
      label: w.word,
      ...(anyMulti ? { group: w.ids.length > 1 ? "mean of its tokens" : "single token" } : {}),
    })),
  });
}

/** The positional table: one row per position, one column per model dimension. */
export function positionalHeatmapSvg(table: PositionalTable, title?: string): string {
  return heatmapSvg(table.rows, {
    title: title ?? `Positional embeddings (${table.kind}, ${table.positions} × ${table.width})`,
    xLabel: "embedding dimension",
    yLabel: "position",
  });
}

/** cos(position i, position j) for every pair, on a fixed −1..1 colour scale. */
export function positionSimilaritySvg(table: PositionalTable, title?: string): string {
  return heatmapSvg(cosineMatrix(table.rows), {
    title: title ?? `Cosine similarity between positions (${table.kind})`,
    xLabel: "position j",
    yLabel: "position i",
    min: -1,
    max: 1,
  });
}
