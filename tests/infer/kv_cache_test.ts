import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { GptConfig } from "../../model/gpt/mod.ts";
import { type DecodeAttention, InferenceEngine } from "../../model/infer/mod.ts";
import { argmax, maxAbsDiff, tinyModel } from "./_model.ts";

const variants: [string, DecodeAttention, Partial<GptConfig>][] = [
  ["split attention", "split", {}],
  ["concat attention", "concat", {}],
  ["fused MultiHeadAttention", "fused", {}],
  ["split attention, sinusoidal positions, untied head", "split", {
    positional: "sinusoidal",
    tieEmbeddings: false,
  }],
];
for (const [name, attention, overrides] of variants) {
  Deno.test(`cached decoding (${name}) gives the logits of full recomputation at every step of a 200-token greedy generation`, async () => {
    const { cfg, weights } = tinyModel(overrides);
    const engine = await InferenceEngine.create(cfg, weights, {
      maxBatch: 1,
      threads: 1,
      attention,
    });
    const prompt = [5, 17, 250, 3, 99, 42, 7];
    const steps = 200, length = 256;

    // Cached: prefill, then one token at a time.
    const slot = engine.acquire();
    let logits = await engine.prefill(slot, prompt);
    const cached: Float32Array[] = [logits];
    const cachedIds = [...prompt];
    for (let i = 0; i < steps; i++) {
      cachedIds.push(argmax(logits));
      if (i < steps - 1) [logits] = await engine.decode([cachedIds.at(-1)!]);
      if (i < steps - 1) cached.push(logits);
    }

    // Uncached: recompute the whole (right-padded) sequence for every new token.
    const v = cfg.vocabSize;
    const fullIds = [...prompt];
    let worst = 0;
    for (let i = 0; i < steps; i++) {
      const padded = [...fullIds, ...new Array(length - fullIds.length).fill(0)];
      const all = await engine.forwardFull([padded]);
      const row = all.subarray((fullIds.length - 1) * v, fullIds.length * v);
      worst = Math.max(worst, maxAbsDiff(row, cached[i]));
      fullIds.push(argmax(row));
    }
    console.log(`max |cached - recomputed| over ${steps} steps: ${worst.toExponential(2)}`);
    assert(worst < 1e-4, `logits differ by ${worst}`);
    assertEquals(fullIds, cachedIds);
    assert(new Set(cachedIds.slice(prompt.length)).size > 5, "generation should not be constant");
  });
}

Deno.test("a batched decode step gives each slot the logits it gets alone, whatever its length", async () => {
  const { cfg, weights } = tinyModel();
  const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 4, threads: 1 });
  const prompts = [[1, 2, 3], [
    200,
    201,
    202,
    203,
    204,
    205,
    206,
    207,
    208,
    209,
    210,
    211,
    212,
    213,
    214,
    215,
    216,
    217,
  ], [9]];
  const next = [10, 20, 30];
  const alone: Float32Array[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const s = engine.acquire();
    await engine.prefill(s, prompts[i]);
    alone.push((await engine.decode([next[i]]))[0]);
    engine.release(s);
  }
  for (const p of prompts) await engine.prefill(engine.acquire(), p);
  const together = await engine.decode(next);
  prompts.forEach((_, i) => assert(maxAbsDiff(together[i], alone[i]) < 1e-4, `slot ${i}`));

  // Freeing the middle slot moves the last one into its place, cache and all.
  assertEquals(engine.release(1), 2);
  const after = await engine.decode([11, 31]);
  const v = cfg.vocabSize;
  const ref0 = await engine.forwardFull([[...prompts[0], 10, 11]]);
  const ref2 = await engine.forwardFull([[...prompts[2], 30, 31]]);
  assert(maxAbsDiff(after[0], ref0.subarray(4 * v, 5 * v)) < 1e-4);
  assert(maxAbsDiff(after[1], ref2.subarray(2 * v, 3 * v)) < 1e-4);
});

Deno.test("embeddings are the final hidden states of every token and their mean", async () => {
  const { cfg, weights } = tinyModel();
  const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 1, threads: 1 });
  const a = await engine.embed([4, 5, 6]);
  const b = await engine.embed([4, 5, 6, 7]);
  assertEquals(a.tokens.length, 3);
  assertEquals(a.mean.length, cfg.width);
  // Causal: a token's embedding does not change when later tokens are added.
  for (let t = 0; t < 3; t++) assert(maxAbsDiff(a.tokens[t], b.tokens[t]) < 1e-5);
  let m = 0;
  for (const row of a.tokens) m += row[0] / 3;
  assert(Math.abs(m - a.mean[0]) < 1e-6);
});
