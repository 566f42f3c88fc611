/**
 * `deno task train`: the single-process trainer. Flags become a job config (the same schema the
 * coordinator reads), the data a `Trainer`, and `trainLoop` runs it.
 *
 * Writes RUN/metrics.jsonl, RUN/checkpoints/step-N (and `latest`), RUN/loss.svg and RUN/lr.svg.
 * Ctrl-C finishes the current step, saves a checkpoint and exits.
 */
import { parseArgs } from "node:util";
import { loadCheckpoint } from "../model/checkpoint/mod.ts";
import { InputError } from "../model/errors.ts";
import { GptConfig } from "../model/gpt/mod.ts";
import {
  JobConfig,
  jobModelFields,
  loadTrainingData,
  RunConsole,
  RunLog,
  Trainer,
  trainLoop,
} from "../model/train/mod.ts";
import {
  flagOptions,
  type FlagTable,
  intFlag,
  numberFlag,
  parseFlags,
  parseFlagTable,
  runCli,
  textFlag,
} from "../model/cli.ts";

const usage = `Usage: deno task train --data DIR|FILE --out RUN [options]

  --data DIR|FILE        ingest output directory, or a UTF-8 text file (byte-level vocabulary)
  --out RUN              run directory (metrics.jsonl, checkpoints/, loss.svg)
  --preset NAME          tiny | small | gpt2 (default tiny); the vocabulary comes from the data
  --positional KIND      learned | sinusoidal (default learned)
  --untied               separate output head instead of the tied token embedding
  --dropout P            dropout after the embeddings and on each residual branch (default 0);
                         masks are drawn from the seed, so a resumed run stays exact
  --steps N              optimizer steps (default 200)
  --micro-batch B        sequences per micro-batch (default 8)
  --grad-accum K         micro-batches per optimizer step (default 1)
  --context T            tokens per sequence (default: the preset's context length)
  --lr X                 peak learning rate (default 1e-3)
  --warmup N             warmup steps (default 20)
  --precision P          fp32 | fp16 | bf16 (bf16 on CUDA only; default fp32)
  --eval-every N         validation loss every N steps (default 50)
  --checkpoint-every N   checkpoint every N steps (default 100; always at the end)
  --keep-last N          checkpoints kept (default 3)
  --seed S               seed for init, data order and dropout masks (default 1337)
  --device D             cpu | cuda | cuda:N (default cpu)
  --threads N            onnxruntime intra-op threads (default: all cores)
  --resume               continue from RUN's latest checkpoint
`;

/** The job config each flag sets; a refused value is reported as its flag. */
const FLAGS: FlagTable = {
  "preset": ["--preset", textFlag],
  "model.positional": ["--positional", textFlag],
  "model.dropout": ["--dropout", numberFlag],
  "model.contextLength": ["--context", intFlag],
  "train.steps": ["--steps", intFlag],
  "train.microBatch": ["--micro-batch", intFlag],
  "train.gradAccum": ["--grad-accum", intFlag],
  "train.lr": ["--lr", numberFlag],
  "train.warmupSteps": ["--warmup", intFlag],
  "train.precision": ["--precision", textFlag],
  "train.evalEvery": ["--eval-every", intFlag],
  "train.checkpointEvery": ["--checkpoint-every", intFlag],
  "train.keepLast": ["--keep-last", intFlag],
  "train.seed": ["--seed", intFlag],
};

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      ...flagOptions(FLAGS),
      data: { type: "string" },
      out: { type: "string" },
      untied: { type: "boolean", default: false },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      resume: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  if (!f.data) throw new InputError("--data", "is required (an ingest directory or a text file)");
  if (!f.out) throw new InputError("--out", "is required (the run directory)");
  const base = { model: { tieEmbeddings: !f.untied } };
  const job = parseFlagTable(JobConfig, base, FLAGS, f);
  const modelFlags = {
    dropout: "--dropout",
    contextLength: "--context",
    positional: "--positional",
  };
  const modelOf = (vocabSize: number) =>
    parseFlags(GptConfig, jobModelFields(job, vocabSize), modelFlags);
  // The vocabulary comes from the data: check the rest of the model before reading it.
  modelOf(1);
  const data = await loadTrainingData(f.data);
  const trainer = await Trainer.create({
    model: modelOf(data.vocabSize),
    train: job.train,
    trainTokens: data.train,
    valTokens: data.val,
    tokenizerJson: data.tokenizerJson,
    device: f.device,
    threads: intFlag(f.threads, "--threads"),
  });
  if (job.train.precision !== "fp32") {
    const ops = Object.entries(trainer.float32Ops).map(([op, n]) => `${op}×${n}`);
    console.error(`${job.train.precision}: ops computing in float32: ${ops.join(", ")}`);
  }
  if (f.resume) {
    const ckpt = await loadCheckpoint(f.out);
    trainer.restore(ckpt);
    console.error(`resumed from ${ckpt.path} at step ${trainer.step}`);
  }
  const { model, train } = trainer;
  const title =
    `${job.preset} (${model.layers}×${model.width}, vocab ${model.vocabSize}), ${train.precision}`;
  using view = new RunConsole({
    total: train.steps,
    initial: trainer.step,
    stopping: "saving a checkpoint",
  });
  const log = await RunLog.open(f.out, trainer.step);
  const { saved } = await trainLoop(trainer, {
    log,
    view,
    title,
    checkpoints: `${f.out}/checkpoints`,
  });
  const summary = {
    run: f.out,
    checkpoint: saved!.path,
    step: trainer.step,
    plot: `${f.out}/loss.svg`,
  };
  console.log(JSON.stringify(summary));
}
