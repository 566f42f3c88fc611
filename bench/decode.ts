/**
 * `deno task bench decode [--preset small] [--batches 1,8] [--streams 1,4,8] [--threads 2]
 * [--prompt 16] [--attention split,concat,fused] [--device cpu|webgpu] [--peer-device D]
 * [--no-peer] [--skip-server]`
 *
 * On a seeded random-init model: decode tokens/s with the KV cache (each decode attention variant)
 * and without it (recomputing the whole padded context per token), prompt 16 → full context, at
 * each batch size; time to first token; and aggregate tokens/s of 1, 4 and 8 concurrent streams
 * through a real server process, over gRPC and over HTTP (server-sent events) side by side.
 * Variants, transports and stream counts are interleaved round by round, because the machine is
 * shared and its load drifts. Unless `--no-peer`, runs
 * `../shared/peers/torch_gpt_bench.py decode` (tuned environment) in the same run, on CUDA when
 * ours runs on webgpu (`--peer-device`; the CPU stands in, labelled, where PyTorch has no CUDA).
 * Model GFLOP/s (2 per weight per token) are quoted against the same device's MatMul peak. Prints
 * one JSON object; never asserts on time.
 */
import { parseArgs } from "node:util";
import { countParams, type PresetName } from "../model/gpt/mod.ts";
import { type DecodeAttention, InferenceEngine } from "../model/infer/mod.ts";
import { describeDevice, type Device, parseDevice } from "../model/runtime.ts";
import { argmax, GenerationClient, randomModel } from "../worker/serve/mod.ts";
import { denoRun, readUntil, SERVE_FLAGS } from "../model/subprocess.ts";
import { matmulPeak } from "./_peak.ts";
import { runPeer } from "./_peer.ts";
import { median, round } from "./_stats.ts";

/** Runs the benchmark and prints its JSON. */
export async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      preset: { type: "string", default: "small" },
      batches: { type: "string", default: "1,8" },
      streams: { type: "string", default: "1,4,8" },
      threads: { type: "string", default: "2" },
      prompt: { type: "string", default: "16" },
      attention: { type: "string", default: "split,concat,fused" },
      "no-cache-steps": { type: "string", default: "8" },
      device: { type: "string", default: "cpu" },
      "peer-device": { type: "string" },
      "no-peer": { type: "boolean", default: false },
      "skip-server": { type: "boolean", default: false },
    },
  });
  const preset = f.preset as PresetName;
  const threads = Number(f.threads), promptLength = Number(f.prompt);
  const device = parseDevice(f.device!);
  const model = randomModel(preset, { seed: 1337 });
  const cfg = model.cfg;
  const engine: Record<string, unknown> = {};
  const peak = await matmulPeak(device, threads);
  const result: Record<string, unknown> = {
    bench: "decode",
    preset,
    device: describeDevice(device),
    matmul_peak_gflops: round(peak, 1),
    config: cfg,
    threads,
    prompt: promptLength,
    newTokens: cfg.contextLength - promptLength,
    engine,
  };
  const attentions = f.attention!.split(",") as DecodeAttention[];
  for (const batch of f.batches!.split(",").map(Number)) {
    Object.assign(
      engine,
      await engineFigures(
        model,
        { batch, device, threads, promptLength, peak },
        Number(f["no-cache-steps"]),
        attentions,
      ),
    );
  }
  if (!f["skip-server"]) {
    const streams = f.streams!.split(",").map(Number);
    result.server = {
      servedVocabSize: SERVED_VOCAB,
      ...await serverFigures(preset, streams, { device, threads, promptLength }),
    };
  }
  if (!f["no-peer"]) {
    const args = [
      "decode",
      "--preset",
      preset,
      "--batches",
      f.batches!,
      "--threads",
      String(threads),
    ]
      .concat(["--prompt", String(promptLength)]);
    const peerDevice = f["peer-device"] ?? (device.kind === "cpu" ? "cpu" : "cuda");
    result.peer = await runPeer("torch_gpt_bench.py", [...args, "--device", peerDevice]);
    if ((result.peer as { unavailable?: string }).unavailable && peerDevice !== "cpu") {
      result.peer_note = `no ${peerDevice} peer on this host (${
        (result.peer as { unavailable: string }).unavailable
      }); PyTorch on the CPU instead`;
      result.peer = await runPeer("torch_gpt_bench.py", [...args, "--device", "cpu"]);
    }
  }
  console.log(JSON.stringify(result, null, 2));
}

/** Cached decoding with each attention variant (interleaved), then the no-cache path. */
async function engineFigures(
  model: ReturnType<typeof randomModel>,
  o: { batch: number; device: Device; threads: number; promptLength: number; peak: number },
  noCacheSteps: number,
  attentions: DecodeAttention[],
) {
  const { batch, threads, promptLength } = o;
  const cfg = model.cfg;
  // The weights a token passes through twice each (multiply and add), the output head included.
  const flopsPerToken = 2 * (countParams(cfg).nonEmbedding + cfg.vocabSize * cfg.width);
  const engines = new Map<DecodeAttention, InferenceEngine>();
  for (const attention of attentions) {
    const options = { maxBatch: batch, threads, attention, device: o.device };
    engines.set(attention, await InferenceEngine.create(cfg, model.weights, options));
  }
  const prompts = Array.from(
    { length: batch },
    (_, b) => Array.from({ length: promptLength }, (_, i) => (b * 31 + i * 7 + 1) % cfg.vocabSize),
  );
  const generate = async (engine: InferenceEngine) => {
    const t0 = performance.now();
    let next: number[] = [];
    for (const p of prompts) next.push(argmax((await engine.prefill(engine.acquire(), p)).logits!));
    const firstMs = performance.now() - t0;
    for (let t = promptLength + 1; t < cfg.contextLength; t++) {
      next = (await engine.decode(next)).map((r) => argmax(r.logits!));
    }
    const ms = performance.now() - t0;
    for (let s = batch - 1; s >= 0; s--) engine.release(s);
    return { ms, firstMs, tokens: next.join() };
  };
  const runs = new Map(attentions.map((a) => [a, [] as { ms: number; firstMs: number }[]]));
  const lastTokens = new Set<string>();
  for (let round = 0; round < 4; round++) {
    for (const [attention, engine] of engines) {
      // The previous engine's onnxruntime threads spin for a while after its last step; timing
      // the next engine's prefill while they do would charge it their CPU.
      await new Promise((r) => setTimeout(r, 100));
      const r = await generate(engine);
      if (round > 0) runs.get(attention)!.push(r); // round 0 compiles and warms up
      lastTokens.add(r.tokens);
    }
  }
  const newTokens = cfg.contextLength - promptLength;
  const out: Record<string, unknown> = {};
  for (const [attention, rs] of runs) {
    const ms = median(rs.map((r) => r.ms));
    const tokensPerS = (batch * newTokens) / (ms / 1000);
    out[`batch${batch}_${attention}`] = {
      cachedTokensPerS: round(tokensPerS, 1),
      shareOfMatmulPeak: round(flopsPerToken * tokensPerS / 1e9 / o.peak, 4),
      cachedMsPerStep: round(ms / newTokens, 3),
      firstTokenMs: round(median(rs.map((r) => r.firstMs)), 2),
      runsMs: rs.map((r) => round(r.ms, 1)),
    };
  }
  out[`batch${batch}_sameTokensAllVariants`] = lastTokens.size === 1;
  if (noCacheSteps > 0) {
    // No cache: every token recomputes the padded context (as a static-shape server would).
    const engine = engines.values().next().value!;
    const full = prompts.map((p) => [...p, ...new Array(cfg.contextLength - p.length).fill(0)]);
    await engine.forwardFull(full);
    const t0 = performance.now();
    for (let i = 0; i < noCacheSteps; i++) await engine.forwardFull(full);
    const msPerStep = (performance.now() - t0) / noCacheSteps;
    out[`batch${batch}_noCache`] = {
      tokensPerS: round(batch / (msPerStep / 1000), 1),
      msPerStep: round(msPerStep, 2),
    };
  }
  return out;
}

/**
 * Aggregate tokens/s of n concurrent streams through a server process, over gRPC and over HTTP
 * (OpenAI completions as server-sent events) to the same server; transports and stream counts are
 * interleaved round by round. The served model has the preset's shape with a vocabulary of 128, so
 * that its byte codec gives every token a character: with the preset's vocabulary most ids are
 * bytes no text holds, HTTP sends no event for them and would look cheaper than it is with text.
 */
const SERVED_VOCAB = 128;

async function serverFigures(
  preset: PresetName,
  streamCounts: number[],
  o: { device: Device; threads: number; promptLength: number },
) {
  const { threads, promptLength } = o;
  const maxBatch = Math.max(...streamCounts);
  const child = denoRun(
    "worker/serve/serve_main.ts",
    ["--random-init", preset, "--vocab-size", String(SERVED_VOCAB), "--seed", "1337"]
      .concat(["--port", "0", "--http-port", "0"])
      .concat(["--max-batch", String(maxBatch), "--threads", String(threads)])
      .concat(["--device", describeDevice(o.device)]),
    { stdout: "piped", stderr: "null", denoFlags: SERVE_FLAGS },
  ).spawn();
  const seen = await readUntil(child.stdout, /http listening on (\S+)\n/);
  const client = new GenerationClient(/^listening on (\S+)\n/m.exec(seen)![1]);
  const completions = `http://${/http listening on (\S+)\n/.exec(seen)![1]}/v1/completions`;
  const prompt = "x".repeat(promptLength); // byte codec: one token per character
  const maxTokens = 256 - promptLength;
  const grpcStream = async (seed: number) => {
    const t0 = performance.now();
    let first = 0, tokens = 0;
    const req = { prompt, max_tokens: maxTokens, temperature: 1, seed };
    for await (const r of client.generate(req)) {
      if (!first) first = performance.now() - t0;
      tokens += r.token_ids.length;
    }
    return { first, tokens };
  };
  const httpStream = async (seed: number) => {
    const t0 = performance.now();
    let first = 0, body = "";
    const res = await fetch(completions, {
      method: "POST",
      body: JSON.stringify({
        prompt,
        max_tokens: maxTokens,
        temperature: 1,
        seed,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    for await (const text of res.body!.pipeThrough(new TextDecoderStream())) {
      if (!first) first = performance.now() - t0;
      body += text;
    }
    const usage = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(body);
    if (!usage) throw new Error(`No usage in the event stream: ${body.slice(-300)}`);
    return { first, tokens: Number(usage[1]) };
  };
  const transports = { grpc: grpcStream, http: httpStream };
  const figures: Record<string, Record<string, unknown>> = {};
  try {
    for (const n of [1, ...streamCounts]) {
      for (const stream of Object.values(transports)) {
        await Promise.all(Array.from({ length: n }, (_, i) => stream(i))); // warm-up
      }
    }
    const key = (t: string, n: number) => `${t === "grpc" ? "" : "http_"}streams${n}`;
    const rounds = new Map<string, { rate: number; first: number }[]>();
    for (let r = 0; r < 3; r++) {
      for (const n of streamCounts) {
        for (const [name, stream] of Object.entries(transports)) {
          const t0 = performance.now();
          const runs = await Promise.all(Array.from({ length: n }, (_, i) => stream(100 * r + i)));
          const tokens = runs.reduce((a, x) => a + x.tokens, 0);
          const rate = tokens / ((performance.now() - t0) / 1000);
          const k = key(name, n);
          rounds.set(k, [...rounds.get(k) ?? [], {
            rate,
            first: median(runs.map((x) => x.first)),
          }]);
        }
      }
    }
    for (const [k, rs] of rounds) {
      const rate = median(rs.map((x) => x.rate));
      const n = Number(/\d+$/.exec(k)![0]);
      figures[k] = {
        aggregateTokensPerS: round(rate, 1),
        perStreamTokensPerS: round(rate / n, 1),
        firstTokenMsMedian: round(median(rs.map((x) => x.first)), 2),
        roundsTokensPerS: rs.map((x) => round(x.rate, 1)),
      };
    }
    for (const t of Object.keys(transports)) {
      const one = figures[key(t, 1)]?.aggregateTokensPerS as number | undefined;
      for (const n of streamCounts) {
        const f = figures[key(t, n)];
        if (one) f.speedupOverOneStream = round((f.aggregateTokensPerS as number) / one, 2);
      }
    }
    for (const n of streamCounts) {
      const g = figures[key("grpc", n)].aggregateTokensPerS as number;
      const h = figures[key("http", n)].aggregateTokensPerS as number;
      // What HTTP costs against gRPC, in percent of gRPC's tokens/s (negative: HTTP was faster).
      figures[key("http", n)].costVsGrpcPercent = round(100 * (g - h) / g, 1);
    }
  } finally {
    client.close();
    child.kill("SIGTERM");
    await child.status;
  }
  return figures;
}
