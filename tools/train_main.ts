/**
 * `deno task train`: the single-process trainer. Flags become a job config (the same schema the
 * coordinator reads), the data a `Trainer`, and `trainLoop` runs it. With `--init-from` it
 * fine-tunes a pretrained model instead of starting from random weights.
 *
 * Writes RUN/job.json (the config, its model resolved), RUN/metrics.jsonl, RUN/checkpoints/step-N
 * (and `latest`), RUN/loss.svg and RUN/lr.svg: what `deno task dashboard --run RUN` shows.
 * Ctrl-C finishes the current step, saves a checkpoint and exits.
 */
import { parseArgs } from "node:util";
import { loadCheckpoint, loadModelDir } from "../model/checkpoint/mod.ts";
import { atomicWriteText } from "../model/atomic_write.ts";
import { InputError } from "../model/errors.ts";
import { GptConfig } from "../model/gpt/mod.ts";
import { fromTokenizerJson } from "../model/tokenizer/mod.ts";
import {
  checkDataTokenizer,
  fineTuningJob,
  JobConfig,
  jobModelFields,
  loadTrainingData,
  parseFreeze,
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
  --init-from DIR        start from a pretrained model instead: a Hugging Face GPT-2 directory
                         (config.json, model.safetensors, tokenizer) or a Denoformer run; its
                         sizes, context and tokenizer are used, and --data must use that tokenizer
                         (ingest --tokenizer DIR, or a text file, encoded with it)
  --freeze WHAT          hold fixed: "embeddings" and/or N (the first N blocks), e.g. embeddings,6
  --positional KIND      learned | sinusoidal (default learned)
  --untied               separate output head instead of the tied token embedding
  --dropout P            dropout after the embeddings and on each residual branch (default 0);
                         masks are drawn from the seed, so a resumed run stays exact
  --steps N              optimizer steps (default 200)
  --micro-batch B        sequences per micro-batch (default 8)
  --grad-accum K         micro-batches per optimizer step (default 1)
  --context T            tokens per sequence (default: the model's context length)
  --lr X                 peak learning rate (default 1e-3 for tiny and small, 6e-4 for gpt2,
                         5e-5 with --init-from)
  --warmup N             warmup steps (default 20; 100 for gpt2)
  --precision P          fp32 | fp16 | bf16 (bf16 on CUDA only; default fp32)
  --eval-every N         validation loss every N steps (default 50)
  --checkpoint-every N   checkpoint every N steps (default 100; always at the end)
  --keep-last N          checkpoints kept (default 3)
  --seed S               seed for init, data order and dropout masks (default 1337)
  --device D             cpu | webgpu | cuda | cuda:N (default cpu)
  --threads N            onnxruntime intra-op threads (default: all cores)
  --resume               continue from RUN's latest checkpoint
`;

/** The job config each flag sets; a refused value is reported as its flag. */
const FLAGS: FlagTable = {
  "preset": ["--preset", textFlag],
  "initFrom": ["--init-from", textFlag],
  "model.positional": ["--positional", textFlag],
  "model.dropout": ["--dropout", numberFlag],
  "model.contextLength": ["--context", intFlag],
  "train.freeze": [
    "--freeze",
    (value, flag) => value === undefined ? value : parseFreeze(value, flag),
  ],
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
const MODEL_FLAGS = {
  dropout: "--dropout",
  contextLength: "--context",
  positional: "--positional",
};

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      ...flagOptions(FLAGS),
      data: { type: "string" },
      out: { type: "string" },
      untied: { type: "boolean" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      resume: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  if (!f.data) throw new InputError("--data", "is required (an ingest directory or a text file)");
  if (!f.out) throw new InputError("--out", "is required (the run directory)");
  const base = f.untied ? { model: { tieEmbeddings: false } } : {};
  let job = parseFlagTable(JobConfig, base, FLAGS, f);
  const pretrained = job.initFrom ? await loadModelDir(job.initFrom) : undefined;
  if (pretrained) job = fineTuning(job, pretrained.config, f);
  const modelOf = (vocabSize: number) =>
    parseFlags(GptConfig, jobModelFields(job, vocabSize), MODEL_FLAGS);
  // The vocabulary comes from the data: check the rest of the model before reading it.
  modelOf(pretrained?.config.vocabSize ?? 1);
  const tokenizer = pretrained &&
    fromTokenizerJson(JSON.parse(pretrained.tokenizerJson), `${pretrained.path}/tokenizer`);
  const data = await loadTrainingData(f.data, "--data", tokenizer);
  if (pretrained) checkDataTokenizer(data.tokenizerJson, pretrained, "--data");
  const trainer = await Trainer.create({
    model: modelOf(data.vocabSize),
    train: job.train,
    trainTokens: data.train,
    valTokens: data.val,
    tokenizerJson: pretrained?.tokenizerJson ?? data.tokenizerJson,
    initialWeights: pretrained?.tensors,
    device: f.device,
    threads: intFlag(f.threads, "--threads"),
  });
  describe(trainer, pretrained?.path);
  if (f.resume) {
    const ckpt = await loadCheckpoint(f.out);
    trainer.restore(ckpt);
    console.error(`resumed from ${ckpt.path} at step ${trainer.step}`);
  }
  const { model, train } = trainer;
  const title =
    `${pretrained ? "fine-tuned" : job.preset} (${model.layers}×${model.width}, vocab ` +
    `${model.vocabSize}), ${train.precision}`;
  const view = { total: train.steps, initial: trainer.step, stopping: "saving a checkpoint" };
  using console_ = new RunConsole(view);
  const log = await RunLog.open(f.out, trainer.step);
  const config = { ...job, model, train };
  await atomicWriteText(`${f.out}/job.json`, JSON.stringify(config, null, 2) + "\n");
  const checkpoints = `${f.out}/checkpoints`;
  const { saved } = await trainLoop(trainer, { log, view: console_, title, checkpoints });
  const summary = {
    run: f.out,
    checkpoint: saved!.path,
    step: trainer.step,
    plot: `${f.out}/loss.svg`,
  };
  console.log(JSON.stringify(summary));
}

/**
 * A job that fine-tunes a model of `config` (see {@linkcode fineTuningJob}), its refusals naming
 * the flags that set the model's shape.
 */
function fineTuning(job: JobConfig, config: GptConfig, f: Record<string, unknown>): JobConfig {
  if (f.preset !== undefined) {
    throw new InputError("--preset", "is fixed by the pretrained model (--init-from); drop it");
  }
  const flag = (field: string) =>
    field === "tieEmbeddings"
      ? "--untied"
      : MODEL_FLAGS[field as keyof typeof MODEL_FLAGS] ?? `model.${field}`;
  return parseFlags(JobConfig, fineTuningJob(job, config, flag), {
    "train.sequenceLength": "--context",
  });
}

/** Prints what trains: parameters (trainable of all) and ops that stay fp32 in low precision. */
function describe(trainer: Trainer, from?: string): void {
  const { trainable, total } = trainer.parameterCounts;
  console.error(
    `parameters: ${trainable.toLocaleString("en")} trainable of ${total.toLocaleString("en")}` +
      (from ? `, from ${from}` : ""),
  );
  const precision = trainer.train.precision;
  if (precision === "fp32") return;
  const ops = Object.entries(trainer.float32Ops).map(([op, n]) => `${op}×${n}`);
  console.error(`${precision}: ops computing in float32: ${ops.join(", ")}`);
}
