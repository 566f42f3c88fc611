/**
 * `deno task bench train [--device cpu|webgpu] [--presets tiny,small,gpt2] [--precisions fp32,fp16]
 * [--steps N] [--threads 2] [--peer-device D] [--no-peer] [--workers N]`: training tokens/s and
 * model FLOP utilisation, micro-batch 8 × context, grad-accum 4, next to the MatMul peak of the
 * same device and PyTorch (../shared/peers/torch_gpt_bench.py, tuned environment) measured in the
 * same run. With `--device webgpu` the peer runs on CUDA (`--peer-device`); where this host's
 * PyTorch has no CUDA, the row says so and the CPU peer stands in.
 *
 * FLOPs per token = 6·N_nonembedding + 12·layers·width·context (the peer's definition).
 */
import { parseArgs } from "node:util";
import { countParams, GptConfig, type PresetName, presets } from "../model/gpt/mod.ts";
import { Rng } from "../model/optim/mod.ts";
import { describeDevice, type Device, parseDevice } from "../model/runtime.ts";
import { TrainConfig, Trainer } from "../model/train/mod.ts";
import { matmulPeak } from "./_peak.ts";
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
      device: { type: "string", default: "cpu" },
      steps: { type: "string" },
      "peer-device": { type: "string" },
      "no-peer": { type: "boolean", default: false },
      workers: { type: "string" },
    },
  });
  const device = parseDevice(values.device!);
  if (values.workers) {
    const rows = [];
    for (const preset of values.presets!.split(",") as ("tiny" | "small")[]) {
      rows.push(await distributed(preset, Number(values.workers), preset === "tiny" ? 20 : 5));
    }
    console.log(JSON.stringify({ benchmark: "train --workers", rows }, null, 2));
    return;
  }
  const threads = Number(values.threads);
  const precisions = values.precisions!.split(",") as ("fp32" | "fp16")[];
  // The fp16 peak matters where fp16 has its own kernels; the CPU's are fp32 at heart.
  const peaks = {
    fp32: await matmulPeak(device, threads),
    fp16: device.kind === "webgpu" && precisions.includes("fp16")
      ? await matmulPeak(device, threads, "float16")
      : undefined,
  };
  const rows: {
    preset: string;
    precision: string;
    engine: string;
    tokens_per_s?: number;
    [k: string]: unknown;
  }[] = [];
  for (const preset of values.presets!.split(",") as PresetName[]) {
    const steps = values.steps ? Number(values.steps) : preset === "tiny" ? 20 : 5;
    for (const precision of precisions) {
      const peak = peaks[precision] ?? peaks.fp32;
      rows.push({
        preset,
        precision,
        device: describeDevice(device),
        ...(await ours(preset, precision, steps, device, threads, peak)),
      });
    }
    if (!values["no-peer"]) {
      const peerDevice = values["peer-device"] ?? (device.kind === "cpu" ? "cpu" : "cuda");
      rows.push(await peerRow(preset, steps, peerDevice, rows));
    }
  }
  console.log(
    JSON.stringify(
      {
        benchmark: "train",
        device: describeDevice(device),
        threads,
        matmul_peak_gflops: peaks.fp32,
        ...(peaks.fp16 ? { matmul_peak_gflops_fp16: peaks.fp16 } : {}),
        rows,
      },
      null,
      2,
    ),
  );
}

/** PyTorch fp32 on `peerDevice` (the CPU standing in, labelled, where CUDA is missing). */
async function peerRow(
  preset: PresetName,
  steps: number,
  peerDevice: string,
  ours: { preset: string; precision: string; tokens_per_s?: number }[],
) {
  const args = ["train", "--preset", preset, "--steps", String(steps)];
  let peer = await runPeer("torch_gpt_bench.py", [...args, "--device", peerDevice]);
  let ran = peerDevice;
  let note: string | undefined;
  if (peer.unavailable && peerDevice !== "cpu") {
    note = `no ${peerDevice} peer on this host (${peer.unavailable}); PyTorch on the CPU instead`;
    peer = await runPeer("torch_gpt_bench.py", [...args, "--device", "cpu"]);
    ran = "cpu";
  }
  const tps = peer.tokens_per_s as number | undefined;
  const fp32 = ours.find((r) => r.preset === preset && r.precision === "fp32");
  return {
    preset,
    precision: "fp32",
    engine: "pytorch (tuned env)",
    device: ran,
    tokens_per_s: tps,
    gflops: peer.gflops,
    ratio_ours_fp32_vs_pytorch: tps && fp32?.tokens_per_s ? fp32.tokens_per_s / tps : undefined,
    ...(note ? { note } : {}),
    ...(peer.unavailable ? { unavailable: peer.unavailable } : {}),
  };
}

async function ours(
  preset: PresetName,
  precision: "fp32" | "fp16",
  steps: number,
  device: Device,
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
    device,
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
  await trainer.release();
  return {
    engine: "denoformer",
    tokens_per_s: tps,
    ms_per_step: median(times),
    gflops,
    mfu_vs_matmul_peak: gflops / peak,
    flops_per_token: flopsPerToken,
  };
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
      // Step lines only: a run also logs each step's learning rate and loss scale on a line of its own.
      const steps = lines.filter((l) => l.step > 2 && typeof l.tokens_per_s === "number");
      return median(steps.map((l) => l.tokens_per_s));
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
