/**
 * `deno task docs-images`: regenerates the pictures in docs/images from a real training run on the
 * sample corpus that ships with the repo (samples/text).
 *
 *   deno task docs-images [--corpus DIR] [--out DIR] [--work DIR] [--steps N] [--vocab-size N]
 *     [--no-screenshots] [--screenshot-steps N]
 *
 * Steps: ingest the corpus (byte-level BPE), train the tiny preset, save and reload the checkpoint,
 * then draw the loss curves (train and validation), the learning rate, PCA and t-SNE projections of
 * chosen words' token embeddings, the learned positional table and its position-to-position similarity,
 * and, for comparison, the sinusoidal table. `OUT/run.json` records the figures the docs quote.
 * Then a 2-worker run on the same data is photographed in the dashboard, and its checkpoint in the
 * playground (docs_screenshots.ts; Debian's chromium).
 */
import { parseArgs } from "node:util";
import { intFlag, runCli } from "../model/cli.ts";
import { makeDocsImages } from "./docs_images.ts";
import { docsScreenshots } from "./docs_screenshots.ts";

const usage = `Usage: deno task docs-images [options]

  --corpus DIR       text to train on (default samples/text)
  --out DIR          where the images and run.json go (default docs/images)
  --work DIR         ingest output, run log and checkpoint (default runs/docs-images)
  --steps N          optimizer steps (default 400)
  --vocab-size N     BPE vocabulary size (default 1024)
  --seed S           seed for the tokenizer split, init and data order (default 1337)
  --no-screenshots   skip the dashboard and playground screenshots
  --screenshot-steps N  steps asked of the photographed 2-worker run (default 150; stopped at 3/4)

Writes OUT/loss.svg, OUT/lr.svg, OUT/embeddings_pca.svg, OUT/embeddings_tsne.svg,
OUT/positions_learned.png,
OUT/positions_learned_similarity.png, OUT/positions_sinusoidal.png,
OUT/positions_sinusoidal_similarity.png (PNG via rsvg-convert), OUT/run.json, and (unless
--no-screenshots) OUT/dashboard.png and OUT/playground.png.
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    allowNegative: true,
    options: {
      corpus: { type: "string", default: "samples/text" },
      out: { type: "string", default: "docs/images" },
      work: { type: "string", default: "runs/docs-images" },
      steps: { type: "string" },
      "vocab-size": { type: "string" },
      seed: { type: "string" },
      screenshots: { type: "boolean", default: true },
      "screenshot-steps": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  const summary = await makeDocsImages({
    corpus: f.corpus!,
    out: f.out!,
    work: f.work!,
    steps: intFlag(f.steps, "--steps"),
    vocabSize: intFlag(f["vocab-size"], "--vocab-size"),
    seed: intFlag(f.seed, "--seed"),
    command: `deno task docs-images ${args.join(" ")}`.trim(),
  });
  const pictures = f.screenshots
    ? await docsScreenshots({
      data: `${f.work}/data`,
      work: f.work!,
      out: f.out!,
      steps: intFlag(f["screenshot-steps"], "--screenshot-steps"),
    })
    : [];
  console.log(JSON.stringify({ ...summary, screenshots: pictures }));
}
