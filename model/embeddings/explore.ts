/**
 * The embedding explorer's commands (`deno task embeddings`): each reads a checkpoint's tables and
 * answers in text for a person and JSON for a program. A word that is several tokens is embedded
 * as the mean of its tokens' vectors, and the answer says so.
 *
 * @example
 * ```ts
 * const ckpt = await loadCheckpoint("runs/mine");
 * const { text } = await exploreEmbeddings(ckpt, { command: "similar", words: ["king"], k: 5 });
 * ```
 */
import type { ModelFiles } from "../checkpoint/mod.ts";
import { heatmapSvg, writeImage } from "../plot/mod.ts";
import { analogy } from "./analogy.ts";
import { cosineMatrix, nearestTokens, type Neighbour } from "./cosine.ts";
import { positionalHeatmapSvg, positionSimilaritySvg, projectionSvg, wordLabel } from "./plots.ts";
import { positionalTable } from "./positional_table.ts";
import { TokenEmbeddings, type WordVector } from "./token_embeddings.ts";

/** The explorer's commands. */
export const EXPLORE_COMMANDS = ["similar", "analogy", "compare", "plot", "positions"] as const;
export type ExploreCommand = typeof EXPLORE_COMMANDS[number];

/** One question to the explorer; the caller has checked words and options. */
export interface ExploreRequest {
  command: ExploreCommand;
  words: string[];
  /** Neighbours to list (default 10). */
  k?: number;
  /** Encode words as typed instead of with a leading space. */
  exact?: boolean;
  /** Image to write (.svg or .png); required by plot and positions. */
  out?: string;
  method?: "pca" | "tsne";
  perplexity?: number;
}

/** An answer: `text` for a terminal, `json` for a program. */
export interface ExploreResult {
  text: string;
  json: Record<string, unknown>;
}

type Command = (ckpt: ModelFiles, r: ExploreRequest) => Promise<ExploreResult>;

/** Answers `r` from the checkpoint's embedding tables. */
export function exploreEmbeddings(
  ckpt: ModelFiles,
  r: ExploreRequest,
): Promise<ExploreResult> {
  return COMMANDS[r.command](ckpt, r);
}

const COMMANDS: Record<ExploreCommand, Command> = {
  similar(ckpt, r) {
    const table = TokenEmbeddings.fromCheckpoint(ckpt);
    const w = table.word(r.words[0], { exact: r.exact });
    const neighbours = nearestTokens(table, w.vector, { k: r.k ?? 10, exclude: w.ids });
    const heading = `nearest to ${show(w)} by cosine similarity:`;
    const text = [...notes([w]), heading, ...neighbourLines(neighbours)].join("\n");
    return Promise.resolve({ text, json: { word: describe(w), neighbours } });
  },
  analogy(ckpt, r) {
    const table = TokenEmbeddings.fromCheckpoint(ckpt);
    const [a, b, c] = r.words;
    const { inputs, neighbours } = analogy(table, a, b, c, { k: r.k ?? 10, exact: r.exact });
    const [ea, eb, ec] = inputs.map(show);
    const heading = `nearest to e(${ea}) - e(${eb}) + e(${ec}), inputs excluded:`;
    const text = [...notes(inputs), heading, ...neighbourLines(neighbours)].join("\n");
    return Promise.resolve({ text, json: { inputs: inputs.map(describe), neighbours } });
  },
  async compare(ckpt, r) {
    const table = TokenEmbeddings.fromCheckpoint(ckpt);
    const ws = r.words.map((w) => table.word(w, { exact: r.exact }));
    const m = cosineMatrix(ws.map((w) => w.vector));
    const width = Math.max(...ws.map((w) => w.word.length), 6);
    const lines = [...notes(ws), "cosine similarity:"];
    lines.push(" ".repeat(width + 2) + ws.map((w) => w.word.padStart(width)).join(" "));
    ws.forEach((w, i) =>
      lines.push(
        `  ${w.word.padEnd(width)}` + m[i].map((v) => v.toFixed(3).padStart(width)).join(" "),
      )
    );
    const json: Record<string, unknown> = { words: ws.map(describe), matrix: m };
    if (r.out) {
      const labels = ws.map(wordLabel);
      json.image = await writeImage(
        r.out,
        heatmapSvg(m, {
          title: "Cosine similarity of token embeddings",
          xLabel: "word",
          yLabel: "word",
          xTickLabels: labels,
          yTickLabels: labels,
          min: -1,
          max: 1,
        }),
      );
      lines.push(`wrote ${json.image}`);
    }
    return { text: lines.join("\n"), json };
  },
  async plot(ckpt, r) {
    const table = TokenEmbeddings.fromCheckpoint(ckpt);
    const ws = r.words.map((w) => table.word(w, { exact: r.exact }));
    const method = r.method ?? "pca";
    const title = `Token embeddings, ${method === "tsne" ? "t-SNE" : "PCA"} (${stepLabel(ckpt)})`;
    const image = await writeImage(
      r.out!,
      projectionSvg(ws, title, { method, perplexity: r.perplexity }),
    );
    return {
      text: [...notes(ws), `wrote ${image}`].join("\n"),
      json: { words: ws.map(describe), image },
    };
  },
  async positions(ckpt, r) {
    const pos = positionalTable(ckpt);
    const out = r.out!, dot = out.lastIndexOf(".");
    const image = await writeImage(out, positionalHeatmapSvg(pos));
    const similarity = await writeImage(
      `${out.slice(0, dot)}_similarity${out.slice(dot)}`,
      positionSimilaritySvg(pos),
    );
    const { kind, positions, width } = pos;
    return {
      text: `${kind} positions ${positions} × ${width}\nwrote ${image}\nwrote ${similarity}`,
      json: { kind, positions, width, image, similarity },
    };
  },
};

/** "step N" for a checkpoint, "pretrained" for a model hub directory. */
function stepLabel(model: ModelFiles): string {
  return model.state ? `step ${model.state.step}` : "pretrained";
}

function neighbourLines(neighbours: readonly Neighbour[]): string[] {
  return neighbours.map((n) => `  ${n.score.toFixed(4)}  ${JSON.stringify(n.token)}`);
}

function show(w: WordVector): string {
  return JSON.stringify(w.word);
}

function describe(w: WordVector) {
  return { word: w.word, encoded: w.encoded, ids: w.ids, pieces: w.pieces, mean: w.ids.length > 1 };
}

/** One line per word that is several tokens: which pieces, and that their mean is used. */
function notes(ws: readonly WordVector[]): string[] {
  return ws.filter((w) => w.ids.length > 1).map((w) =>
    `note: ${show(w)} is ${w.ids.length} tokens [${
      w.pieces.map((p) => JSON.stringify(p)).join(", ")
    }]; using the mean of their vectors`
  );
}
