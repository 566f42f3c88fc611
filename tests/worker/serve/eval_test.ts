import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { InferenceEngine } from "../../../model/infer/mod.ts";
import { logSumExp } from "../../../worker/serve/logprobs.ts";
import { randomModel } from "../../../worker/serve/model_source.ts";
import { scoringWindows } from "../../../worker/serve/perplexity.ts";
import { startServerProcess } from "./_server.ts";
import { denoOutput } from "../../../model/subprocess.ts";

Deno.test("scoring windows score every token but the first exactly once, each with context, within the window", () => {
  for (
    const [length, window, stride] of [[2, 2, 1], [10, 4, 3], [100, 16, 5], [1000, 64, 63], [
      64,
      64,
      63,
    ]]
  ) {
    const windows = scoringWindows(length, window, stride);
    const scored = new Array(length).fill(0);
    for (const w of windows) {
      assert(w.end - w.start <= window && w.start < w.scoreFrom && w.scoreFrom < w.end);
      for (let i = w.scoreFrom; i < w.end; i++) scored[i]++;
    }
    assertEquals(scored, [0, ...new Array(length - 1).fill(1)]);
  }
});

Deno.test("deno task eval's perplexity is exp of the mean negative log-probability of the engine's logits", async () => {
  const text = "Perplexity measures surprise. Évaluation de la perplexité: ünïcödé too.\n".repeat(
    3,
  );
  const dir = await Deno.makeTempDir({ prefix: "eval_" });
  const server = await startServerProcess();
  try {
    await Deno.writeTextFile(`${dir}/data.txt`, text);
    const window = 64, stride = 40;
    const out = await denoOutput(
      "worker/serve/eval_main.ts",
      ["--server", server.address, "--data", `${dir}/data.txt`]
        .concat(["--window", String(window), "--stride", String(stride)]),
    );
    assert(out.code === 0, out.stderr);
    const got = JSON.parse(out.stdout);

    // The reference: the same windows through the engine's cached path, log-softmax in float64.
    const { cfg, weights } = randomModel("tiny", { seed: 3, vocabSize: 257, contextLength: 1024 });
    const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 1, threads: 1 });
    const ids = [256, ...new TextEncoder().encode(text)];
    let nll = 0;
    for (const w of scoringWindows(ids.length, window, stride)) {
      let logits = (await engine.prefill(engine.acquire(), ids.slice(w.start, w.start + 1)))
        .logits!;
      for (let i = w.start + 1; i < w.end; i++) {
        if (i >= w.scoreFrom) nll -= logits[ids[i]] - logSumExp(logits);
        if (i < w.end - 1) logits = (await engine.decode([ids[i]]))[0].logits!;
      }
      engine.release(0);
    }
    const tokens = ids.length - 1;
    const perplexity = Math.exp(nll / tokens);
    console.log(`perplexity: eval ${got.perplexity}, engine ${perplexity}`);
    assertEquals([got.tokens, got.bytes], [tokens, tokens]);
    assert(Math.abs(got.perplexity - perplexity) / perplexity < 1e-5);
    assert(Math.abs(got.bitsPerByte - nll / (Math.LN2 * tokens)) < 1e-5);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
