/**
 * The pictures in docs/images, made from a real run: ingest a corpus (byte-level BPE), train the
 * tiny preset, save and reload the checkpoint, then draw the loss curves (train and validation),
 * the learning rate, PCA and t-SNE projections of chosen words' token embeddings, the learned
 * positional table and its position-to-position similarity, and, for comparison, the sinusoidal
 * table. `OUT/run.json` records the figures the docs quote.
 *
 * @example
 * ```ts
 * await makeDocsImages({ corpus: "samples/text", out: "docs/images", work: "runs/docs-images" });
 * ```
 */
import { IngestOptions, runIngest } from "../ingest/mod.ts";
import { atomicWriteText } from "../model/atomic_write.ts";
import { loadCheckpoint, type LoadedCheckpoint } from "../model/checkpoint/mod.ts";
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
import { writeImage } from "../model/plot/mod.ts";
import {
  loadTrainingData,
  RunConsole,
  RunLog,
  TrainConfig,
  Trainer,
  trainLoop,
} from "../model/train/mod.ts";

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

/** What {@linkcode makeDocsImages} draws from. */
export interface DocsImagesOptions {
  /** Text to train on. */
  corpus: string;
  /** Where the images and run.json go. */
  out: string;
  /** Ingest output, run log and checkpoint (emptied first). */
  work: string;
  steps?: number;
  vocabSize?: number;
  seed?: number;
  /** The command line, recorded in run.json. */
  command?: string;
}

/** Trains, draws every picture, writes run.json, and returns the run's summary. */
export async function makeDocsImages(o: DocsImagesOptions): Promise<Record<string, unknown>> {
  const started = performance.now();
  const r = await trainTiny(o);
  await Deno.mkdir(o.out, { recursive: true });
  for (const name of ["loss.svg", "lr.svg"]) {
    await atomicWriteText(`${o.out}/${name}`, await Deno.readTextFile(`${o.work}/run/${name}`));
  }
  const table = TokenEmbeddings.fromCheckpoint(r.ckpt);
  const words = PROJECTION_WORDS.map((w) => table.word(w));
  const steps = r.trainer.train.steps;
  await atomicWriteText(
    `${o.out}/embeddings_pca.svg`,
    projectionSvg(words, `Token embeddings after ${steps} steps, PCA`),
  );
  await atomicWriteText(
    `${o.out}/embeddings_tsne.svg`,
    projectionSvg(words, `Token embeddings after ${steps} steps, t-SNE`, {
      method: "tsne",
      seed: r.trainer.train.seed,
    }),
  );
  await drawPositions(o.out, r.ckpt);
  const neighbours = Object.fromEntries(["model", "the", "attention"].map((w) => {
    const v = table.word(w);
    return [w, nearestTokens(table, v.vector, { k: 5, exclude: v.ids })];
  }));
  const { microBatch, lr, warmupSteps } = r.trainer.train;
  const summary = {
    command: o.command ?? "deno task docs-images",
    corpus: o.corpus,
    tokens: r.tokens,
    model: r.trainer.model,
    train: { steps, microBatch, lr, warmupSteps },
    final: r.final,
    uniformLoss: Math.log(r.tokens.vocabSize),
    trainSeconds: Math.round(r.trainSeconds * 10) / 10,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    multiTokenWords: words.filter((w) => w.ids.length > 1).map((w) => [w.word, w.pieces]),
    neighbours,
  };
  await atomicWriteText(`${o.out}/run.json`, JSON.stringify(summary, null, 2) + "\n");
  return { out: o.out, checkpoint: r.ckpt.path, ...summary.final };
}

/** Ingests the corpus and trains the tiny preset on it; the checkpoint is reloaded from disk. */
async function trainTiny(o: DocsImagesOptions) {
  const steps = o.steps ?? 400, seed = o.seed ?? 1337;
  await Deno.remove(o.work, { recursive: true }).catch(() => {});
  const data = `${o.work}/data`;
  const log = jsonLogger({ component: "docs-images" });
  const ingest = { out: data, inputs: [o.corpus], vocabSize: o.vocabSize ?? 1024, seed };
  await runIngest(IngestOptions.parse({ ...ingest, valFraction: 0.15 }), { log });
  const tokens = await loadTrainingData(data);
  const trainer = await Trainer.create({
    model: GptConfig.parse({ ...presets.tiny, vocabSize: tokens.vocabSize }),
    train: TrainConfig.parse({
      steps,
      microBatch: 8,
      lr: 1e-3,
      warmupSteps: Math.max(1, Math.round(steps / 10)),
      evalEvery: Math.max(1, Math.round(steps / 20)),
      checkpointEvery: 0,
      seed,
    }),
    trainTokens: tokens.train,
    valTokens: tokens.val,
    tokenizerJson: tokens.tokenizerJson,
  });
  const { model } = trainer;
  const title =
    `Tiny GPT (${model.layers}×${model.width}, vocab ${model.vocabSize}) on ${o.corpus}`;
  const trainStarted = performance.now();
  const runLog = await RunLog.open(`${o.work}/run`);
  using view = new RunConsole({ total: steps, stopping: "drawing what it has" });
  const { last, saved } = await trainLoop(trainer, {
    log: runLog,
    view,
    title,
    checkpoints: `${o.work}/run/checkpoints`,
  });
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  // Deterministic (the first validation windows), so this is the last logged value when the
  // last step was an evaluation step.
  const valLoss = await trainer.evaluate() ?? NaN;
  const final = { trainLoss: last?.loss, valLoss, tokensPerS: Math.round(last?.tokens_per_s ?? 0) };
  return {
    trainer,
    ckpt: await loadCheckpoint(saved!.path),
    tokens: { train: tokens.train.length, val: tokens.val.length, vocabSize: tokens.vocabSize },
    final,
    trainSeconds,
  };
}

/** The learned positional table and, for comparison, the sinusoidal one, as heatmaps. */
async function drawPositions(out: string, ckpt: LoadedCheckpoint): Promise<void> {
  const learned = positionalTable(ckpt);
  await writeImage(`${out}/positions_learned.png`, positionalHeatmapSvg(learned));
  await writeImage(`${out}/positions_learned_similarity.png`, positionSimilaritySvg(learned));
  const { contextLength: positions, width } = ckpt.config;
  const flat = sinusoidalTable(positions, width);
  const sinusoidal: PositionalTable = {
    kind: "sinusoidal",
    positions,
    width,
    rows: Array.from({ length: positions }, (_, p) => flat.subarray(p * width, (p + 1) * width)),
  };
  await writeImage(`${out}/positions_sinusoidal.png`, positionalHeatmapSvg(sinusoidal));
  await writeImage(`${out}/positions_sinusoidal_similarity.png`, positionSimilaritySvg(sinusoidal));
}
