/**
 * `deno task train`: the single-process trainer.
 *
 *   deno task train --data DIR|FILE --preset tiny --steps N --out RUN [--precision fp16]
 *     [--micro-batch B] [--grad-accum K] [--lr X] [--resume]
 *
 * Writes RUN/metrics.jsonl, RUN/checkpoints/step-N (and `latest`), RUN/loss.svg and RUN/lr.svg.
 * Ctrl-C finishes the current step, saves a checkpoint and exits.
 */
import { parseArgs } from "node:util";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint/mod.ts";
import { InputError } from "../model/errors.ts";
import { GptConfig, presets } from "../model/gpt/mod.ts";
import { Progress } from "../model/progress.ts";
import { loadTrainingData, RunLog, TrainConfig, Trainer } from "../model/train/mod.ts";
import { intFlag, numberFlag, parseFlags, runCli } from "../model/cli.ts";

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
  --device D             cpu | webgpu | cuda | cuda:N (default cpu)
  --threads N            onnxruntime intra-op threads (default: all cores)
  --resume               continue from RUN's latest checkpoint
`;

/** Reads one flag's value (see model/cli.ts), naming the flag in its errors. */
type FlagReader = (value: string | undefined, flag: string) => unknown;

/** The training settings that flags set: config field → [flag, how its value is read]. */
const TRAIN_FLAGS: Record<string, [string, FlagReader]> = {
  steps: ["--steps", intFlag],
  microBatch: ["--micro-batch", intFlag],
  gradAccum: ["--grad-accum", intFlag],
  lr: ["--lr", numberFlag],
  warmupSteps: ["--warmup", intFlag],
  precision: ["--precision", (value) => value],
  evalEvery: ["--eval-every", intFlag],
  checkpointEvery: ["--checkpoint-every", intFlag],
  keepLast: ["--keep-last", intFlag],
  seed: ["--seed", intFlag],
};

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      preset: { type: "string", default: "tiny" },
      positional: { type: "string", default: "learned" },
      untied: { type: "boolean", default: false },
      dropout: { type: "string", default: "0" },
      steps: { type: "string" },
      "micro-batch": { type: "string" },
      "grad-accum": { type: "string" },
      context: { type: "string" },
      lr: { type: "string" },
      warmup: { type: "string" },
      precision: { type: "string", default: "fp32" },
      "eval-every": { type: "string" },
      "checkpoint-every": { type: "string" },
      "keep-last": { type: "string" },
      seed: { type: "string" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      resume: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  if (!f.data) throw new InputError("--data", "is required (an ingest directory or a text file)");
  if (!f.out) throw new InputError("--out", "is required (the run directory)");
  if (!(f.preset! in presets)) {
    throw new InputError(
      "--preset",
      `expected one of ${Object.keys(presets).join(", ")}, got "${f.preset}"`,
    );
  }
  if (!["fp32", "fp16", "bf16"].includes(f.precision!)) {
    throw new InputError("--precision", `expected fp32, fp16 or bf16, got "${f.precision}"`);
  }
  if (!["learned", "sinusoidal"].includes(f.positional!)) {
    throw new InputError("--positional", `expected learned or sinusoidal, got "${f.positional}"`);
  }

  const dropout = numberFlag(f.dropout, "--dropout")!;
  const context = intFlag(f.context, "--context");
  // Checked before the data is read, so a bad flag fails at once.
  const modelFlags = { dropout: "--dropout", contextLength: "--context" };
  const preset = presets[f.preset as keyof typeof presets];
  const sized = { dropout, ...(context ? { contextLength: context } : {}) };
  parseFlags(GptConfig, { ...preset, ...sized }, modelFlags);
  const given = Object.entries(TRAIN_FLAGS).map(([field, [flag, read]]) =>
    [field, read(f[flag.slice(2) as keyof typeof f] as string | undefined, flag)] as const
  );
  const train = parseFlags(
    TrainConfig,
    Object.fromEntries(given.filter(([, v]) => v !== undefined)),
    Object.fromEntries(Object.entries(TRAIN_FLAGS).map(([field, [flag]]) => [field, flag])),
  );
  const data = await loadTrainingData(f.data);
  const model = parseFlags(GptConfig, {
    ...preset,
    ...sized,
    vocabSize: data.vocabSize,
    positional: f.positional,
    tieEmbeddings: !f.untied,
  }, modelFlags);

  const trainer = await Trainer.create({
    model,
    train,
    trainTokens: data.train,
    valTokens: data.val,
    tokenizerJson: data.tokenizerJson,
    device: f.device,
    threads: intFlag(f.threads, "--threads"),
  });
  if (train.precision !== "fp32") {
    const ops = Object.entries(trainer.float32Ops).map(([op, n]) => `${op}×${n}`);
    console.error(`${train.precision}: ops computing in float32: ${ops.join(", ")}`);
  }
  const run = f.out;
  const checkpoints = `${run}/checkpoints`;
  if (f.resume) {
    const ckpt = await loadCheckpoint(run);
    trainer.restore(ckpt);
    console.error(`resumed from ${ckpt.path} at step ${trainer.step}`);
  }
  const log = await RunLog.open(run, trainer.step);
  const title =
    `${f.preset} (${model.layers}×${model.width}, vocab ${model.vocabSize}), ${train.precision}`;

  let stop = false;
  const onSignal = () => {
    if (stop) Deno.exit(130);
    stop = true;
    console.error("\nstopping after this step; saving a checkpoint (Ctrl-C again to abort)");
  };
  Deno.addSignalListener("SIGINT", onSignal);

  const bar = new Progress({
    label: "train",
    total: train.steps,
    unit: "steps",
    initial: trainer.step,
  });
  while (trainer.step < train.steps && !stop) {
    const m = await trainer.trainStep();
    await log.write(m);
    bar.set(
      m.step,
      `loss ${m.loss.toFixed(3)}  ${Math.round(m.tokens_per_s)} tok/s${
        m.skipped ? "  (skipped: fp16 overflow)" : ""
      }`,
    );
    if (train.evalEvery && m.step % train.evalEvery === 0) {
      const val = await trainer.evaluate();
      if (val !== undefined) await log.write({ step: m.step, val_loss: val });
    }
    if (train.checkpointEvery && m.step % train.checkpointEvery === 0) {
      await saveCheckpoint(checkpoints, await trainer.checkpointContents(), {
        keepLast: train.keepLast,
      });
      await log.plot(title);
    }
  }
  bar.done();
  Deno.removeSignalListener("SIGINT", onSignal);
  const saved = await saveCheckpoint(checkpoints, await trainer.checkpointContents(), {
    keepLast: train.keepLast,
  });
  await log.plot(title);
  console.log(
    JSON.stringify({ run, checkpoint: saved.path, step: trainer.step, plot: `${run}/loss.svg` }),
  );
}
