/**
 * `deno task docs-images`: regenerates the pictures in docs/images from a real training run on the
 * sample corpus that ships with the repo (samples/text).
 *
 *   deno task docs-images [--corpus DIR] [--out DIR] [--work DIR] [--steps N] [--vocab-size N]
 *
 * Steps: ingest the corpus (byte-level BPE), train the tiny preset, save and reload the checkpoint,
 * then draw the loss curves (train and validation), the learning rate, PCA and t-SNE projections of
 * chosen words' token embeddings, the learned positional table and its position-to-position similarity,
 * and, for comparison, the sinusoidal table. `OUT/run.json` records the figures the docs quote.
 */
import { parseArgs } from "node:util";
import { IngestOptions, runIngest } from "../ingest/mod.ts";
import { atomicWriteText } from "../model/atomic_write.ts";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint/mod.ts";
import {
  nearestTokens,
  positionalHeatmapSvg,
  type PositionalTable,
  positionalTable,
  positionSimilaritySvg,
  projectionSvg,
  TokenEmbeddings,
} from "../model/embeddings/mod.ts";
import { GptConfig, presets, sinusoidalTable } from "../model/gpt/mod.ts";
import { jsonLogger } from "../model/log.ts";
import { Progress } from "../model/progress.ts";
import { loadTrainingData, RunLog, TrainConfig, Trainer } from "../model/train/mod.ts";
import { intFlag, runCli } from "../model/cli.ts";
import { writeImage } from "./embeddings_main.ts";

const usage = `Usage: deno task docs-images [options]

  --corpus DIR       text to train on (default samples/text)
  --out DIR          where the images and run.json go (default docs/images)
  --work DIR         ingest output, run log and checkpoint (default runs/docs-images)
  --steps N          optimizer steps (default 400)
  --vocab-size N     BPE vocabulary size (default 1024)
  --seed S           seed for the tokenizer split, init and data order (default 1337)

Writes OUT/loss.svg, OUT/lr.svg, OUT/embeddings_pca.svg, OUT/embeddings_tsne.svg,
OUT/positions_learned.png,
OUT/positions_learned_similarity.png, OUT/positions_sinusoidal.png,
OUT/positions_sinusoidal_similarity.png (PNG via rsvg-convert) and OUT/run.json.
`;

/**
 * The words drawn in the projection: function words, numbers, and the corpus's own topics (chosen
 * so that no two labels overlap in the picture of the default run).
 */
export const PROJECTION_WORDS = [
  "the",
  "a",
  "of",
  "and",
  "to",
  "is",
  "one",
  "two",
  "four",
  "model",
  "words",
  "token",
  "tokens",
  "vector",
  "attention",
  "position",
  "table",
  "gradient",
  "king",
  "queen",
  "man",
  "woman",
];

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      corpus: { type: "string", default: "samples/text" },
      out: { type: "string", default: "docs/images" },
      work: { type: "string", default: "runs/docs-images" },
      steps: { type: "string" },
      "vocab-size": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  const steps = intFlag(f.steps, "--steps") ?? 400;
  const vocabSize = intFlag(f["vocab-size"], "--vocab-size") ?? 1024;
  const seed = intFlag(f.seed, "--seed") ?? 1337;
  const out = f.out!, work = f.work!;
  const started = performance.now();
  const log = jsonLogger({ component: "docs-images" });

  await Deno.remove(work, { recursive: true }).catch(() => {});
  const data = `${work}/data`;
  await runIngest(
    IngestOptions.parse({ out: data, inputs: [f.corpus], vocabSize, valFraction: 0.15, seed }),
    { log },
  );
  const tokens = await loadTrainingData(data);
  const model = GptConfig.parse({ ...presets.tiny, vocabSize: tokens.vocabSize });
  const train = TrainConfig.parse({
    steps,
    microBatch: 8,
    lr: 1e-3,
    warmupSteps: Math.max(1, Math.round(steps / 10)),
    evalEvery: Math.max(1, Math.round(steps / 20)),
    checkpointEvery: 0,
    seed,
  });
  const trainer = await Trainer.create({
    model,
    train,
    trainTokens: tokens.train,
    valTokens: tokens.val,
    tokenizerJson: tokens.tokenizerJson,
  });
  const runLog = await RunLog.open(`${work}/run`);
  const bar = new Progress({ label: "train", total: steps, unit: "steps" });
  const trainStarted = performance.now();
  let last = { loss: NaN, val: NaN, tokensPerS: 0 };
  while (trainer.step < steps) {
    const m = await trainer.trainStep();
    await runLog.write(m);
    last = { ...last, loss: m.loss, tokensPerS: m.tokens_per_s };
    bar.set(m.step, `loss ${m.loss.toFixed(3)}`);
    if (m.step % train.evalEvery === 0 || m.step === steps) {
      const val = await trainer.evaluate();
      if (val !== undefined) {
        await runLog.write({ step: m.step, val_loss: val });
        last.val = val;
      }
    }
  }
  bar.done();
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  await runLog.plot(
    `Tiny GPT (${model.layers}×${model.width}, vocab ${model.vocabSize}) on ${f.corpus}`,
  );
  const saved = await saveCheckpoint(`${work}/run/checkpoints`, await trainer.checkpointContents());
  const ckpt = await loadCheckpoint(saved.path);

  await Deno.mkdir(out, { recursive: true });
  for (const name of ["loss.svg", "lr.svg"]) {
    await atomicWriteText(`${out}/${name}`, await Deno.readTextFile(`${work}/run/${name}`));
  }
  const table = TokenEmbeddings.fromCheckpoint(ckpt);
  const words = PROJECTION_WORDS.map((w) => table.word(w));
  await atomicWriteText(
    `${out}/embeddings_pca.svg`,
    projectionSvg(words, `Token embeddings after ${steps} steps, PCA`),
  );
  await atomicWriteText(
    `${out}/embeddings_tsne.svg`,
    projectionSvg(words, `Token embeddings after ${steps} steps, t-SNE`, { method: "tsne", seed }),
  );
  const learned = positionalTable(ckpt);
  // Heatmaps are PNG: as SVG each of 128 × 128 cells is a <rect>, 1.4 MB a picture.
  await writeImage(`${out}/positions_learned.png`, positionalHeatmapSvg(learned));
  await writeImage(`${out}/positions_learned_similarity.png`, positionSimilaritySvg(learned));
  const flat = sinusoidalTable(model.contextLength, model.width);
  const sinusoidal: PositionalTable = {
    kind: "sinusoidal",
    positions: model.contextLength,
    width: model.width,
    rows: Array.from(
      { length: model.contextLength },
      (_, p) => flat.subarray(p * model.width, (p + 1) * model.width),
    ),
  };
  await writeImage(`${out}/positions_sinusoidal.png`, positionalHeatmapSvg(sinusoidal));
  await writeImage(`${out}/positions_sinusoidal_similarity.png`, positionSimilaritySvg(sinusoidal));

  const neighbours = Object.fromEntries(
    ["model", "the", "attention"].map((w) => {
      const v = table.word(w);
      return [w, nearestTokens(table, v.vector, { k: 5, exclude: v.ids })];
    }),
  );
  const summary = {
    command: `deno task docs-images ${args.join(" ")}`.trim(),
    corpus: f.corpus,
    tokens: { train: tokens.train.length, val: tokens.val.length, vocabSize: tokens.vocabSize },
    model,
    train: { steps, microBatch: train.microBatch, lr: train.lr, warmupSteps: train.warmupSteps },
    final: { trainLoss: last.loss, valLoss: last.val, tokensPerS: Math.round(last.tokensPerS) },
    uniformLoss: Math.log(tokens.vocabSize),
    trainSeconds: Math.round(trainSeconds * 10) / 10,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    multiTokenWords: words.filter((w) => w.ids.length > 1).map((w) => [w.word, w.pieces]),
    neighbours,
  };
  await atomicWriteText(`${out}/run.json`, JSON.stringify(summary, null, 2) + "\n");
  console.log(JSON.stringify({ out, checkpoint: saved.path, ...summary.final }));
}
