/**
 * `deno task train`: the single-process trainer.
 *
 *   deno task train --data DIR|FILE --preset tiny --steps N --out RUN [--precision fp16]
 *     [--micro-batch B] [--grad-accum K] [--lr X] [--resume]
 *   deno task train --data DIR|FILE --init-from GPT2_DIR [--freeze embeddings,N] --out RUN …
 *
 * Writes RUN/metrics.jsonl, RUN/checkpoints/step-N (and `latest`), RUN/loss.svg and RUN/lr.svg.
 * Ctrl-C finishes the current step, saves a checkpoint and exits.
 */
import { parseArgs } from "node:util";
import { loadCheckpoint, loadModelDir, saveCheckpoint } from "../model/checkpoint/mod.ts";
import { InputError } from "../model/errors.ts";
import { GptConfig, presets } from "../model/gpt/mod.ts";
import { Progress } from "../model/progress.ts";
import {
  checkDataTokenizer,
  loadTrainingData,
  parseFreeze,
  RunLog,
  SCHEDULE_DEFAULTS,
  TrainConfig,
  Trainer,
} from "../model/train/mod.ts";
import { fromTokenizerJson } from "../model/tokenizer/mod.ts";
import { intFlag, numberFlag, parseFlags, runCli } from "../model/cli.ts";

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
  --device D             cpu | cuda | cuda:N (default cpu)
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
      preset: { type: "string" },
      "init-from": { type: "string" },
      freeze: { type: "string" },
      positional: { type: "string" },
      untied: { type: "boolean" },
      dropout: { type: "string" },
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
  const pretrained = f["init-from"] ? await loadModelDir(f["init-from"]) : undefined;
  if (pretrained) {
    for (const flag of ["preset", "positional", "untied"] as const) {
      if (f[flag] !== undefined) {
        throw new InputError(
          `--${flag}`,
          "The model's shape comes from --init-from; drop this flag",
        );
      }
    }
  }
  const presetName = (f.preset ?? "tiny") as keyof typeof presets;
  if (!(presetName in presets)) {
    throw new InputError(
      "--preset",
      `expected one of ${Object.keys(presets).join(", ")}, got "${f.preset}"`,
    );
  }
  if (!["fp32", "fp16", "bf16"].includes(f.precision!)) {
    throw new InputError("--precision", `expected fp32, fp16 or bf16, got "${f.precision}"`);
  }
  const positional = f.positional ?? "learned";
  if (!["learned", "sinusoidal"].includes(positional)) {
    throw new InputError("--positional", `expected learned or sinusoidal, got "${positional}"`);
  }

  const dropout = numberFlag(f.dropout, "--dropout");
  const context = intFlag(f.context, "--context");
  // Checked before the data is read, so a bad flag fails at once.
  const modelFlags = { dropout: "--dropout", contextLength: "--context" };
  const preset = presets[presetName];
  // A pretrained model keeps its context (the position table is sized to it): --context only
  // shortens the training sequences.
  const sized = {
    ...(dropout !== undefined ? { dropout } : {}),
    ...(context && !pretrained ? { contextLength: context } : {}),
  };
  const base = pretrained?.config ?? preset;
  parseFlags(GptConfig, { ...base, ...sized }, modelFlags);
  const given = Object.entries(TRAIN_FLAGS).map(([field, [flag, read]]) =>
    [field, read(f[flag.slice(2) as keyof typeof f] as string | undefined, flag)] as const
  );
  const train = parseFlags(
    TrainConfig,
    {
      ...SCHEDULE_DEFAULTS[pretrained ? "pretrained" : presetName],
      ...Object.fromEntries(given.filter(([, v]) => v !== undefined)),
      ...(context && pretrained ? { sequenceLength: context } : {}),
      ...(f.freeze !== undefined ? { freeze: parseFreeze(f.freeze) } : {}),
    },
    Object.fromEntries(Object.entries(TRAIN_FLAGS).map(([field, [flag]]) => [field, flag])),
  );
  const tokenizer = pretrained
    ? fromTokenizerJson(JSON.parse(pretrained.tokenizerJson), `${pretrained.path}/tokenizer`)
    : undefined;
  const data = await loadTrainingData(f.data, "--data", tokenizer);
  if (pretrained) checkDataTokenizer(data.tokenizerJson, pretrained, "--data");
  const model = parseFlags(
    GptConfig,
    pretrained ? { ...pretrained.config, ...sized } : {
      ...preset,
      ...sized,
      vocabSize: data.vocabSize,
      positional,
      tieEmbeddings: !f.untied,
    },
    modelFlags,
  );

  const trainer = await Trainer.create({
    model,
    train,
    trainTokens: data.train,
    valTokens: data.val,
    tokenizerJson: pretrained?.tokenizerJson ?? data.tokenizerJson,
    initialWeights: pretrained?.tensors,
    device: f.device,
    threads: intFlag(f.threads, "--threads"),
  });
  const params = trainer.parameterCounts;
  console.error(
    `parameters: ${params.trainable.toLocaleString("en")} trainable of ` +
      `${params.total.toLocaleString("en")}${pretrained ? `, from ${pretrained.path}` : ""}`,
  );
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
    `${pretrained ? "fine-tuned" : presetName} (${model.layers}×${model.width}, vocab ` +
    `${model.vocabSize}), ${train.precision}`;

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
      await saveCheckpoint(checkpoints, trainer.checkpointContents(), { keepLast: train.keepLast });
      await log.plot(title);
    }
  }
  bar.done();
  Deno.removeSignalListener("SIGINT", onSignal);
  const saved = await saveCheckpoint(checkpoints, trainer.checkpointContents(), {
    keepLast: train.keepLast,
  });
  await log.plot(title);
  console.log(
    JSON.stringify({ run, checkpoint: saved.path, step: trainer.step, plot: `${run}/loss.svg` }),
  );
}
