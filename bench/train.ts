/**
 * `deno task bench train`: training tokens/s and model FLOP utilisation for `tiny` and `small`,
 * micro-batch 8 × context, grad-accum 4, fp32 and fp16, next to the onnxruntime MatMul peak and
 * PyTorch (../shared/peers/torch_gpt_bench.py, tuned environment) measured in the same run.
 *
 * FLOPs per token = 6·N_nonembedding + 12·layers·width·context (the peer's definition).
 */
import { parseArgs } from "node:util";
import { Graph } from "../model/graph/mod.ts";
import { countParams, GptConfig, presets } from "../model/gpt/mod.ts";
import { Rng } from "../model/optim/mod.ts";
import { createSession, ort } from "../model/runtime.ts";
import { TrainConfig, Trainer } from "../model/train/mod.ts";
import { runPeer } from "./_peer.ts";
import { median } from "./_stats.ts";
import { denoOutput } from "../model/subprocess.ts";

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      presets: { type: "string", default: "tiny,small" },
      precisions: { type: "string", default: "fp32,fp16" },
      threads: { type: "string", default: "2" },
      "no-peer": { type: "boolean", default: false },
      workers: { type: "string" },
    },
  });
  if (values.workers) {
    const rows = [];
    for (const preset of values.presets!.split(",") as ("tiny" | "small")[]) {
      rows.push(await distributed(preset, Number(values.workers), preset === "tiny" ? 20 : 5));
    }
    console.log(JSON.stringify({ benchmark: "train --workers", rows }, null, 2));
    return;
  }
  const threads = Number(values.threads);
  const peak = await matmulPeak(threads);
  const rows: {
    preset: string;
    precision: string;
    engine: string;
    tokens_per_s?: number;
    [k: string]: unknown;
  }[] = [];
  for (const preset of values.presets!.split(",") as ("tiny" | "small")[]) {
    const steps = preset === "tiny" ? 20 : 5;
    for (const precision of values.precisions!.split(",") as ("fp32" | "fp16")[]) {
      rows.push({ preset, precision, ...(await ours(preset, precision, steps, threads, peak)) });
    }
    if (!values["no-peer"]) {
      const peer = await runPeer("torch_gpt_bench.py", [
        "train",
        "--preset",
        preset,
        "--steps",
        String(steps),
      ]);
      const tps = peer.tokens_per_s as number | undefined;
      const fp32 = rows.find((r) => r.preset === preset && r.precision === "fp32");
      rows.push({
        preset,
        precision: "fp32",
        engine: "pytorch (tuned env)",
        tokens_per_s: tps,
        gflops: peer.gflops,
        ratio_ours_fp32_vs_pytorch: tps && fp32?.tokens_per_s ? fp32.tokens_per_s / tps : undefined,
        ...(peer.unavailable ? { unavailable: peer.unavailable } : {}),
      });
    }
  }
  console.log(
    JSON.stringify({ benchmark: "train", threads, matmul_peak_gflops: peak, rows }, null, 2),
  );
}

async function ours(
  preset: "tiny" | "small",
  precision: "fp32" | "fp16",
  steps: number,
  threads: number,
  peak: number,
) {
  const model = GptConfig.parse(presets[preset]);
  const rng = new Rng(1337);
  const tokens = Uint16Array.from({ length: 200_000 }, () => rng.int(model.vocabSize));
  const trainer = await Trainer.create({
    model,
    train: TrainConfig.parse({
      microBatch: 8,
      gradAccum: 4,
      precision,
      steps: steps + 2,
      evalEvery: 0,
    }),
    trainTokens: tokens,
    tokenizerJson: "",
    threads,
  });
  for (let i = 0; i < 2; i++) await trainer.trainStep();
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    await trainer.trainStep();
    times.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tps = steps * trainer.tokensPerStep / seconds;
  const flopsPerToken = 6 * countParams(model).nonEmbedding +
    12 * model.layers * model.width * model.contextLength;
  const gflops = flopsPerToken * tps / 1e9;
  return {
    engine: "denoformer",
    tokens_per_s: tps,
    ms_per_step: median(times),
    gflops,
    mfu_vs_matmul_peak: gflops / peak,
    flops_per_token: flopsPerToken,
  };
}

/** fp32 1024³ MatMul GFLOP/s with both operands as inputs, median of 10 runs. */
async function matmulPeak(threads: number): Promise<number> {
  const n = 1024;
  const g = new Graph();
  g.output(g.matMul(g.input("a", "float32", [n, n]), g.input("b", "float32", [n, n])), "c");
  const session = await createSession(g.toModel(), { threads });
  const rng = new Rng(1);
  const data = () =>
    new ort.Tensor("float32", Float32Array.from({ length: n * n }, () => rng.next() - 0.5), [n, n]);
  const feeds = { a: data(), b: data() };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    await session.run(feeds);
    times.push((performance.now() - s) / 1000);
  }
  return (2 * n ** 3) / median(times) / 1e9;
}

/**
 * `--workers N`: the same step through the coordinator with N local workers of 1 thread each,
 * against 1 worker with N threads, on the ring's default transport; PyTorch DDP the same way.
 */
export async function distributed(preset: "tiny" | "small", workers: number, steps: number) {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/data`;
    await run([
      "ingest/main.ts",
      "--out",
      data,
      "--vocab-size",
      "512",
      "/usr/share/common-licenses/GPL-3",
      "/usr/share/common-licenses/Apache-2.0",
    ]);
    const job = {
      preset,
      model: { vocabSize: presets[preset].vocabSize },
      train: { microBatch: 8, gradAccum: 4, steps: steps + 2, evalEvery: 0, checkpointEvery: 0 },
    };
    await Deno.writeTextFile(`${dir}/job.json`, JSON.stringify(job));
    const measure = async (n: number, threads: number) => {
      const out = `${dir}/run-${n}x${threads}`;
      await run([
        "coordinator/main.ts",
        "--data",
        data,
        "--out",
        out,
        "--config",
        `${dir}/job.json`,
        "--local-workers",
        String(n),
        "--threads",
        String(threads),
        "--port",
        "0",
      ]);
      const lines = (await Deno.readTextFile(`${out}/metrics.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      return median(lines.filter((l) => l.step > 2).map((l) => l.tokens_per_s));
    };
    const many = await measure(workers, 1), one = await measure(1, workers);
    const ddpMany = await runPeer("torch_allreduce_bench.py", [
      "ddp",
      "--preset",
      preset,
      "--world",
      String(workers),
      "--threads",
      "1",
    ]);
    const ddpOne = await runPeer("torch_allreduce_bench.py", [
      "ddp",
      "--preset",
      preset,
      "--world",
      "1",
      "--threads",
      String(workers),
    ]);
    return {
      preset,
      [`ours_${workers}x1_tokens_per_s`]: many,
      [`ours_1x${workers}_tokens_per_s`]: one,
      ours_ratio: many / one,
      target_ratio: 0.9,
      [`pytorch_ddp_${workers}x1_tokens_per_s`]: ddpMany.tokens_per_s ?? ddpMany.unavailable,
      [`pytorch_1x${workers}_tokens_per_s`]: ddpOne.tokens_per_s ?? ddpOne.unavailable,
      pytorch_ratio: (ddpMany.tokens_per_s as number) / (ddpOne.tokens_per_s as number),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  async function run(args: string[]) {
    const [script, ...rest] = args;
    const out = await denoOutput(script, rest);
    if (out.code !== 0) throw new Error(`${script} failed: ${out.stderr.slice(-2000)}`);
  }
}
