/**
 * `deno task bench decode [--preset small] [--batches 1,8] [--streams 1,4,8] [--threads 2]
 * [--prompt 16] [--peer]`
 *
 * On a seeded random-init model: decode tokens/s with the KV cache and without it (recomputing the
 * whole padded context per token), prompt 16 → full context, at each batch size; time to first
 * token; and aggregate tokens/s of 1, 4 and 8 concurrent streams through a real gRPC server
 * process. With `--peer`, runs `../shared/peers/torch_gpt_bench.py decode` (tuned environment) in
 * the same run and reports the ratios. Prints one JSON object; never asserts on time.
 */
import { parseArgs } from "node:util";
import type { PresetName } from "../model/gpt/mod.ts";
import { type DecodeAttention, InferenceEngine } from "../model/infer/mod.ts";
import { argmax } from "../worker/serve/sampling.ts";
import { randomModel } from "../worker/serve/model_source.ts";
import { GenerationClient } from "../worker/serve/client.ts";

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
      peer: { type: "boolean", default: false },
      "skip-server": { type: "boolean", default: false },
    },
  });
  const preset = f.preset as PresetName;
  const threads = Number(f.threads), promptLength = Number(f.prompt);
  const model = randomModel(preset, { seed: 1337 });
  const cfg = model.cfg;
  const result: Record<string, unknown> = {
    bench: "decode",
    preset,
    config: cfg,
    threads,
    prompt: promptLength,
    newTokens: cfg.contextLength - promptLength,
    engine: {} as Record<string, unknown>,
  };
  for (const batch of f.batches!.split(",").map(Number)) {
    const attentions = f.attention!.split(",") as DecodeAttention[];
    for (const [i, attention] of attentions.entries()) {
      (result.engine as Record<string, unknown>)[`batch${batch}_${attention}`] =
        await engineFigures(
          model,
          batch,
          threads,
          promptLength,
          i === 0 ? Number(f["no-cache-steps"]) : 0,
          attention,
        );
    }
  }
  if (!f["skip-server"]) {
    result.server = await serverFigures(
      preset,
      f.streams!.split(",").map(Number),
      threads,
      promptLength,
    );
  }
  if (f.peer) result.peer = await peerFigures(preset, f.batches!, threads, promptLength);
  console.log(JSON.stringify(result, null, 2));
}

async function engineFigures(
  model: ReturnType<typeof randomModel>,
  batch: number,
  threads: number,
  promptLength: number,
  noCacheSteps: number,
  attention: DecodeAttention,
) {
  const cfg = model.cfg;
  const engine = await InferenceEngine.create(cfg, model.weights, {
    maxBatch: batch,
    threads,
    attention,
  });
  const prompts = Array.from(
    { length: batch },
    (_, b) => Array.from({ length: promptLength }, (_, i) => (b * 31 + i * 7 + 1) % cfg.vocabSize),
  );
  const generate = async () => {
    const t0 = performance.now();
    let next: number[] = [];
    for (const p of prompts) next.push(argmax(await engine.prefill(engine.acquire(), p)));
    const firstMs = performance.now() - t0;
    for (let t = promptLength + 1; t < cfg.contextLength; t++) {
      next = (await engine.decode(next)).map(argmax);
    }
    const ms = performance.now() - t0;
    for (let s = batch - 1; s >= 0; s--) engine.release(s);
    return { ms, firstMs };
  };
  await generate(); // warm-up: compiles the decode graph for this batch
  const runs = [await generate(), await generate(), await generate()];
  const med = runs.map((r) => r.ms).sort((a, b) => a - b)[1];
  const newTokens = cfg.contextLength - promptLength;
  const cachedTokS = (batch * newTokens) / (med / 1000);
  const cached = {
    cachedTokensPerS: round(cachedTokS),
    cachedMsPerStep: round(med / newTokens, 3),
    firstTokenMs: round(runs.map((r) => r.firstMs).sort((a, b) => a - b)[1], 2),
  };
  if (noCacheSteps === 0) return cached;
  // No cache: every token recomputes the padded context (as a static-shape server would).
  const full = prompts.map((p) => [...p, ...new Array(cfg.contextLength - p.length).fill(0)]);
  await engine.forwardFull(full);
  const t0 = performance.now();
  for (let i = 0; i < noCacheSteps; i++) await engine.forwardFull(full);
  const noCacheMsPerToken = (performance.now() - t0) / noCacheSteps;
  const noCacheTokS = batch / (noCacheMsPerToken / 1000);
  return {
    ...cached,
    noCacheTokensPerS: round(noCacheTokS),
    noCacheMsPerStep: round(noCacheMsPerToken, 2),
    cacheSpeedup: round(cachedTokS / noCacheTokS, 2),
  };
}

async function serverFigures(
  preset: PresetName,
  streamCounts: number[],
  threads: number,
  promptLength: number,
) {
  const serveMain = new URL("../worker/serve_main.ts", import.meta.url).pathname;
  const maxBatch = Math.max(...streamCounts);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", serveMain, "--random-init", preset, "--seed", "1337", "--port", "0"]
      .concat(["--max-batch", String(maxBatch), "--threads", String(threads)]),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on (\S+)\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Server exited: ${out}`);
    out += value;
  }
  const client = new GenerationClient(/listening on (\S+)\n/.exec(out)![1]);
  const prompt = "x".repeat(promptLength); // byte codec: one token per character
  const maxTokens = 256 - promptLength;
  const stream = async (seed: number) => {
    const t0 = performance.now();
    let first = 0, tokens = 0;
    for await (
      const r of client.generate({ prompt, max_tokens: maxTokens, temperature: 1, seed })
    ) {
      if (!first) first = performance.now() - t0;
      tokens += r.token_ids.length;
    }
    return { first, tokens, ms: performance.now() - t0 };
  };
  const figures: Record<string, unknown> = {};
  try {
    for (const n of [1, ...streamCounts]) {
      await Promise.all(Array.from({ length: n }, (_, i) => stream(i))); // warm-up
    }
    for (const n of streamCounts) {
      const t0 = performance.now();
      const runs = await Promise.all(Array.from({ length: n }, (_, i) => stream(100 + i)));
      const s = (performance.now() - t0) / 1000;
      const tokens = runs.reduce((a, r) => a + r.tokens, 0);
      figures[`streams${n}`] = {
        aggregateTokensPerS: round(tokens / s),
        perStreamTokensPerS: round(tokens / s / n),
        firstTokenMsMedian: round(runs.map((r) => r.first).sort((a, b) => a - b)[n >> 1], 2),
        tokens,
      };
    }
    const one = (figures.streams1 as { aggregateTokensPerS: number } | undefined)
      ?.aggregateTokensPerS;
    for (const n of streamCounts) {
      const f = figures[`streams${n}`] as Record<string, number>;
      if (one) f.speedupOverOneStream = round(f.aggregateTokensPerS / one, 2);
    }
  } finally {
    client.close();
    reader.cancel().catch(() => {});
    child.kill("SIGTERM");
    await child.status;
  }
  return figures;
}

async function peerFigures(preset: string, batches: string, threads: number, prompt: number) {
  const script = new URL("../../shared/peers/torch_gpt_bench.py", import.meta.url).pathname;
  const env: Record<string, string> = { OMP_WAIT_POLICY: "PASSIVE" };
  const out = await new Deno.Command("env", {
    args: [
      "-u",
      "OPENBLAS_CORETYPE",
      "-u",
      "OPENBLAS_L2_SIZE",
      "/usr/bin/python3",
      script,
      "decode",
    ]
      .concat(["--preset", preset, "--batches", batches, "--threads", String(threads)])
      .concat(["--prompt", String(prompt)]),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  try {
    return JSON.parse(text);
  } catch {
    return { error: new TextDecoder().decode(out.stderr).slice(-2000), stdout: text.slice(-2000) };
  }
}

function round(x: number, digits = 1): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}
