/**
 * `deno task embeddings`: look inside a checkpoint's embedding tables.
 *
 *   deno task embeddings --checkpoint PATH similar WORD [--k N]
 *   deno task embeddings --checkpoint PATH analogy A B C [--k N]
 *   deno task embeddings --checkpoint PATH compare WORD WORD... [--out FILE.svg|png]
 *   deno task embeddings --checkpoint PATH plot --out FILE.svg|png WORD...
 *   deno task embeddings --checkpoint PATH positions --out FILE.svg|png
 *
 * Results go to stdout (text, or one JSON object with --json); notes about words that are several
 * tokens go with them, since those words are embedded as the mean of their tokens.
 */
import { parseArgs } from "node:util";
import { atomicWriteText } from "../model/atomic_write.ts";
import { loadModelDir, type ModelFiles } from "../model/checkpoint/mod.ts";
import {
  analogy,
  cosineMatrix,
  nearestTokens,
  positionalHeatmapSvg,
  positionalTable,
  positionSimilaritySvg,
  projectionSvg,
  TokenEmbeddings,
  wordLabel,
  type WordVector,
} from "../model/embeddings/mod.ts";
import { InputError } from "../model/errors.ts";
import { heatmapSvg } from "../model/plot/mod.ts";
import { intFlag, numberFlag, runCli } from "../model/cli.ts";

const usage = `Usage: deno task embeddings --checkpoint PATH <command> [options]

Commands:
  similar WORD [--k N]              nearest tokens to WORD by cosine similarity, with scores
  analogy A B C [--k N]             nearest tokens to e(A) - e(B) + e(C), the inputs excluded
  compare WORD WORD... [--out FILE] cosine similarity matrix (and a heatmap with --out)
  plot --out FILE WORD...           2-D projection of the words' embeddings, labelled
                                    (--method pca, or tsne with --perplexity X)
  positions --out FILE              heatmap of the positional table, and FILE's sibling
                                    <name>_similarity.<ext>: cosine of position i to position j

Options:
  --checkpoint PATH   run directory, its checkpoints/, one step directory, or a Hugging Face
                      GPT-2 directory (config.json + model.safetensors) (required)
  --k N               how many neighbours (default 10)
  --out FILE          image to write: .svg, or .png (converted with rsvg-convert)
  --method M          plot's projection: pca (default) or tsne
  --perplexity X      t-SNE's effective number of neighbours (default min(30, (words-1)/3))
  --exact             encode words exactly as typed; by default a leading space is added
                      (" king", the form a word takes mid-sentence)
  --json              print one JSON object instead of text
  -h, --help          this text

A word that is several tokens is embedded as the mean of its tokens' vectors; the output says so.
`;

if (import.meta.main) await runCli(main);

/** Runs the CLI. */
export async function main(args: string[]): Promise<void> {
  const { values: f, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      checkpoint: { type: "string" },
      k: { type: "string" },
      out: { type: "string" },
      method: { type: "string", default: "pca" },
      perplexity: { type: "string" },
      exact: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  const [command, ...words] = positionals;
  const commands = ["similar", "analogy", "compare", "plot", "positions"];
  if (!command) throw new InputError("command", `expected one of ${commands.join(", ")}`);
  if (!commands.includes(command)) {
    throw new InputError("command", `expected one of ${commands.join(", ")}, got "${command}"`);
  }
  if (!f.checkpoint) {
    throw new InputError("--checkpoint", "is required (a run directory or a checkpoint directory)");
  }
  checkArity(command, words, f.out);
  const k = intFlag(f.k, "--k") ?? 10;
  if (f.method !== "pca" && f.method !== "tsne") {
    throw new InputError("--method", `expected pca or tsne, got "${f.method}"`);
  }
  if (f.method === "tsne" && command === "plot" && words.length < 4) {
    throw new InputError("--method", `tsne needs at least 4 words, got ${words.length}`);
  }
  const perplexity = numberFlag(f.perplexity, "--perplexity");
  if (perplexity !== undefined && f.method !== "tsne") {
    throw new InputError("--perplexity", "only applies to --method tsne");
  }
  if (perplexity !== undefined && !(perplexity >= 1 && perplexity <= (words.length - 1) / 3)) {
    throw new InputError(
      "--perplexity",
      `expected 1 to ${
        ((words.length - 1) / 3).toFixed(1)
      } for ${words.length} words, got ${perplexity}`,
    );
  }
  if (k < 1) throw new InputError("--k", `expected at least 1, got "${f.k}"`);
  const ckpt = await loadModelDir(f.checkpoint);
  const table = TokenEmbeddings.fromCheckpoint(ckpt);
  const embed = (w: string) => table.word(w, { exact: f.exact });
  const say = (text: string, json: Record<string, unknown>) =>
    console.log(f.json ? JSON.stringify({ checkpoint: ckpt.path, command, ...json }) : text);

  if (command === "similar") {
    const w = embed(words[0]);
    const neighbours = nearestTokens(table, w.vector, { k, exclude: w.ids });
    const lines = [...notes([w]), `nearest to ${show(w)} by cosine similarity:`];
    for (const n of neighbours) lines.push(`  ${n.score.toFixed(4)}  ${JSON.stringify(n.token)}`);
    say(lines.join("\n"), { word: describe(w), neighbours });
  } else if (command === "analogy") {
    const r = analogy(table, words[0], words[1], words[2], { k, exact: f.exact });
    const [a, b, c] = r.inputs;
    const lines = [
      ...notes(r.inputs),
      `nearest to e(${show(a)}) - e(${show(b)}) + e(${show(c)}), inputs excluded:`,
    ];
    for (const n of r.neighbours) lines.push(`  ${n.score.toFixed(4)}  ${JSON.stringify(n.token)}`);
    say(lines.join("\n"), { inputs: r.inputs.map(describe), neighbours: r.neighbours });
  } else if (command === "compare") {
    const ws = words.map(embed);
    const m = cosineMatrix(ws.map((w) => w.vector));
    const width = Math.max(...ws.map((w) => w.word.length), 6);
    const lines = [...notes(ws), "cosine similarity:"];
    lines.push(" ".repeat(width + 2) + ws.map((w) => w.word.padStart(width)).join(" "));
    ws.forEach((w, i) =>
      lines.push(
        `  ${w.word.padEnd(width)}` + m[i].map((v) => v.toFixed(3).padStart(width)).join(" "),
      )
    );
    let image: string | undefined;
    if (f.out) {
      const labels = ws.map(wordLabel);
      image = await writeImage(
        f.out,
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
      lines.push(`wrote ${image}`);
    }
    say(lines.join("\n"), { words: ws.map(describe), matrix: m, ...(image ? { image } : {}) });
  } else if (command === "plot") {
    const ws = words.map(embed);
    const image = await writeImage(
      f.out!,
      projectionSvg(
        ws,
        `Token embeddings, ${f.method === "tsne" ? "t-SNE" : "PCA"} (${stepLabel(ckpt)})`,
        { method: f.method, perplexity },
      ),
    );
    say([...notes(ws), `wrote ${image}`].join("\n"), { words: ws.map(describe), image });
  } else {
    const pos = positionalTable(ckpt);
    const out = f.out!, dot = out.lastIndexOf(".");
    const similarityPath = `${out.slice(0, dot)}_similarity${out.slice(dot)}`;
    const image = await writeImage(out, positionalHeatmapSvg(pos));
    const similarity = await writeImage(similarityPath, positionSimilaritySvg(pos));
    say(
      `${pos.kind} positions ${pos.positions} × ${pos.width}\nwrote ${image}\nwrote ${similarity}`,
      {
        kind: pos.kind,
        positions: pos.positions,
        width: pos.width,
        image,
        similarity,
      },
    );
  }
}

/** "step N" for a checkpoint, "pretrained" for a model hub directory. */
function stepLabel(model: ModelFiles): string {
  return model.state ? `step ${model.state.step}` : "pretrained";
}

/** Writes `svg` to `path` (.svg), or converts it with rsvg-convert (.png); returns the path. */
export async function writeImage(path: string, svg: string): Promise<string> {
  const ext = path.toLowerCase().match(/\.(svg|png)$/)?.[1];
  if (!ext) throw new InputError("--out", `expected a .svg or .png file name, got "${path}"`);
  if (ext === "svg") {
    await atomicWriteText(path, svg);
    return path;
  }
  let child;
  try {
    child = new Deno.Command("rsvg-convert", {
      args: ["--format", "png", "--background-color", "white", "--output", path],
      stdin: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(
        "--out",
        `PNG needs rsvg-convert (Debian: apt-get install librsvg2-bin); write "${
          path.replace(/\.png$/i, ".svg")
        }" instead`,
      );
    }
    throw err;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(svg));
  await writer.close();
  const { code, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(`rsvg-convert failed for "${path}": ${new TextDecoder().decode(stderr)}`);
  }
  return path;
}

/** Word counts and required flags, checked before the checkpoint is read. */
function checkArity(command: string, words: string[], out: string | undefined): void {
  const got = `got ${words.length} word(s)${words.length ? `: "${words.join(" ")}"` : ""}`;
  const need: Record<string, [number, number, string]> = {
    similar: [1, 1, "one word (quote a phrase)"],
    analogy: [3, 3, "three words A B C"],
    compare: [2, Infinity, "at least two words"],
    plot: [3, Infinity, "at least three words to project"],
    positions: [0, 0, "no words"],
  };
  const [min, max, what] = need[command];
  if (words.length < min || words.length > max) {
    throw new InputError(command, `expected ${what}, ${got}`);
  }
  if ((command === "plot" || command === "positions") && !out) {
    throw new InputError("--out", `is required for ${command} (FILE.svg or FILE.png)`);
  }
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
