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
import { loadModelDir } from "../model/checkpoint/mod.ts";
import {
  EXPLORE_COMMANDS,
  type ExploreCommand,
  exploreEmbeddings,
} from "../model/embeddings/mod.ts";
import { InputError } from "../model/errors.ts";
import { imageFormat } from "../model/plot/mod.ts";
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
  if (f.help) return console.log(usage);
  const [command, ...words] = positionals;
  const commands = EXPLORE_COMMANDS.join(", ");
  if (!(EXPLORE_COMMANDS as readonly string[]).includes(command)) {
    const got = command === undefined ? "" : `, got "${command}"`;
    throw new InputError("command", `expected one of ${commands}${got}`);
  }
  if (!f.checkpoint) {
    throw new InputError("--checkpoint", "is required (a run directory or a checkpoint directory)");
  }
  checkArity(command, words, f.out);
  const k = intFlag(f.k, "--k") ?? 10;
  if (k < 1) throw new InputError("--k", `expected at least 1, got "${f.k}"`);
  if (f.method !== "pca" && f.method !== "tsne") {
    throw new InputError("--method", `expected pca or tsne, got "${f.method}"`);
  }
  const perplexity = numberFlag(f.perplexity, "--perplexity");
  checkTsne(f.method, command === "plot" ? words.length : 0, perplexity);
  const ckpt = await loadModelDir(f.checkpoint);
  const request = { command: command as ExploreCommand, words, k, exact: f.exact, out: f.out };
  const { text, json } = await exploreEmbeddings(ckpt, {
    ...request,
    method: f.method,
    perplexity,
  });
  console.log(f.json ? JSON.stringify({ checkpoint: ckpt.path, command, ...json }) : text);
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
  if (out !== undefined && !imageFormat(out)) {
    throw new InputError("--out", `expected a .svg or .png file name, got "${out}"`);
  }
}

/** t-SNE needs a few words, and its perplexity fits their number. */
function checkTsne(method: string, plotted: number, perplexity: number | undefined): void {
  if (method === "tsne" && plotted > 0 && plotted < 4) {
    throw new InputError("--method", `tsne needs at least 4 words, got ${plotted}`);
  }
  if (perplexity === undefined) return;
  if (method !== "tsne") throw new InputError("--perplexity", "only applies to --method tsne");
  const most = (plotted - 1) / 3;
  if (!(perplexity >= 1 && perplexity <= most)) {
    throw new InputError(
      "--perplexity",
      `expected 1 to ${most.toFixed(1)} for ${plotted} words, got ${perplexity}`,
    );
  }
}
