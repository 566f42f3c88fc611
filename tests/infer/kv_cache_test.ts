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
    let logits = (await engine.prefill(slot, prompt)).logits!;
    const cached: Float32Array[] = [logits];
    const cachedIds = [...prompt];
    for (let i = 0; i < steps; i++) {
      cachedIds.push(argmax(logits));
      if (i < steps - 1) logits = (await engine.decode([cachedIds.at(-1)!]))[0].logits!;
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
    alone.push((await engine.decode([next[i]]))[0].logits!);
    engine.release(s);
  }
  for (const p of prompts) await engine.prefill(engine.acquire(), p);
  const together = (await engine.decode(next)).map((r) => r.logits!);
  prompts.forEach((_, i) => assert(maxAbsDiff(together[i], alone[i]) < 1e-4, `slot ${i}`));

  // Freeing the middle slot moves the last one into its place, cache and all.
  assertEquals(engine.release(1), 2);
  const after = (await engine.decode([11, 31])).map((r) => r.logits!);
  const v = cfg.vocabSize;
  const ref0 = await engine.forwardFull([[...prompts[0], 10, 11]]);
  const ref2 = await engine.forwardFull([[...prompts[2], 30, 31]]);
  assert(maxAbsDiff(after[0], ref0.subarray(4 * v, 5 * v)) < 1e-4);
  assert(maxAbsDiff(after[1], ref2.subarray(2 * v, 3 * v)) < 1e-4);
});

for (const attention of ["split", "concat"] as const) {
  Deno.test(`the cache follows the longest sequence up and down, and every slot keeps its logits (${attention})`, async () => {
    const { cfg, weights } = tinyModel();
    const engine = await InferenceEngine.create(cfg, weights, {
      maxBatch: 3,
      threads: 1,
      attention,
    });
    const seqs = [70, 5, 40].map((n, s) =>
      Array.from({ length: n }, (_, i) => (s * 97 + i * 13) % 300)
    );
    const check = async (live: number[][]) => {
      const next = live.map((ids) => (ids.at(-1)! * 7 + 3) % 300);
      const got = await engine.decode(next);
      live.forEach((ids, s) => ids.push(next[s]));
      const padded = live.map((ids) => [...ids, ...new Array(256 - ids.length).fill(0)]);
      for (const [s, ids] of live.entries()) {
        const ref = await engine.forwardFull([padded[s]]);
        const row = ref.subarray((ids.length - 1) * cfg.vocabSize, ids.length * cfg.vocabSize);
        assert(maxAbsDiff(got[s].logits!, row) < 1e-4, `slot ${s} of ${live.length}`);
      }
    };
    for (const ids of seqs) await engine.prefill(engine.acquire(), ids);
    assertEquals(engine.cache.capacity, 96); // 70 tokens: three blocks of 32
    await check(seqs);
    for (let i = 0; i < 26; i++) await check(seqs); // 97 tokens: the cache grows to 128
    assertEquals(engine.cache.capacity, 128);
    // The longest leaves: the last slot moves into its place and the cache shrinks to 96 (67 + 1).
    assertEquals(engine.release(0), 2);
    const live = [seqs[2], seqs[1]];
    await check(live);
    assertEquals(engine.cache.capacity, 96);
    await check(live);
  });
}

Deno.test("a step returns each row's probabilities at its temperature, and logits where asked", async () => {
  const { cfg, weights } = tinyModel();
  const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 3, threads: 1 });
  const softmax = (logits: Float32Array, t: number) => {
    const e = Array.from(logits, (x) => Math.exp(x / t)), z = e.reduce((a, b) => a + b);
    return Float32Array.from(e, (x) => x / z);
  };
  const first = await engine.prefill(engine.acquire(), [1, 2, 3], {
    temperature: 0.7,
    logits: true,
  });
  assert(maxAbsDiff(first.probs!, softmax(first.logits!, 0.7)) < 1e-6);
  await engine.prefill(engine.acquire(), [4, 5]);
  await engine.prefill(engine.acquire(), [8]);
  const rows = [{ temperature: 1.5, logits: true }, {}, { temperature: 0.5 }];
  const [a, b, c] = await engine.decode([6, 7, 9], rows);
  assert(maxAbsDiff(a.probs!, softmax(a.logits!, 1.5)) < 1e-6);
  assertEquals(b.probs, undefined); // greedy rows get logits only
  assert(b.logits);
  assertEquals(c.logits, undefined); // a row with a temperature gets probabilities only
  // A step where no row needs logits does not fetch them; the probabilities are the same.
  engine.release(2);
  engine.release(1);
  const [alone] = await engine.decode([10], [{ temperature: 2 }]);
  assertEquals(alone.logits, undefined);
  const again = await engine.prefill(engine.acquire(), [1, 2, 3, 6, 10], {
    temperature: 2,
    logits: true,
  });
  assert(maxAbsDiff(alone.probs!, softmax(again.logits!, 2)) < 1e-5);
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
