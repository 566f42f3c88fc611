/**
 * The embedding pictures, as SVG documents: a labelled 2-D projection (PCA or t-SNE) of chosen words, the
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
import { tsne } from "./tsne.ts";
import type { PositionalTable } from "./positional_table.ts";
import type { WordVector } from "./token_embeddings.ts";

/** A word's label: the word, with its token count when it is several tokens (a mean). */
export function wordLabel(w: WordVector): string {
  return w.ids.length > 1 ? `${w.word} (mean of ${w.ids.length})` : w.word;
}

/** How {@linkcode projectionSvg} projects. */
export interface ProjectionOptions {
  /** `pca` (default): linear, keeps global geometry; `tsne`: keeps neighbourhoods only. */
  method?: "pca" | "tsne";
  /** t-SNE's perplexity (default: its own). */
  perplexity?: number;
  seed?: number;
}

/**
 * A 2-D scatter of `words`, each point labelled; words split into several tokens form their own
 * legend group, so a reader sees which points are means. PCA axes give each component's share of
 * the variance; t-SNE axes say that only neighbourhoods are meaningful.
 */
export function projectionSvg(
  words: readonly WordVector[],
  title: string,
  options: ProjectionOptions = {},
): string {
  const vectors = words.map((w) => w.vector);
  let coordinates: number[][], xLabel: string, yLabel: string;
  if (options.method === "tsne") {
    const r = tsne(vectors, { perplexity: options.perplexity, seed: options.seed });
    coordinates = r.coordinates;
    xLabel = `t-SNE 1 (perplexity ${r.perplexity.toFixed(1)}, KL ${r.kl.toFixed(3)})`;
    yLabel = "t-SNE 2 (only neighbourhoods are meaningful)";
  } else {
    const r = pca(vectors, 2);
    coordinates = r.coordinates;
    xLabel = `PC 1 (${(r.explained[0] * 100).toFixed(1)}% of variance)`;
    yLabel = `PC 2 (${(r.explained[1] * 100).toFixed(1)}% of variance)`;
  }
  const anyMulti = words.some((w) => w.ids.length > 1);
  return scatterSvg({
    title,
    width: 860,
    height: 640,
    xLabel,
    yLabel,
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
