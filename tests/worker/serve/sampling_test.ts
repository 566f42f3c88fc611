import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { sampleToken, seededRandom, stepRequest } from "../../../worker/serve/sampling.ts";

const logits = Float32Array.of(1, 3, 2, -1, 0.5);
const none = new Set<number>();
const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

function histogram(params: typeof greedy, draws: number, seen = none): number[] {
  const rng = seededRandom(7), counts = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken({ logits }, params, seen, rng)]++;
  return counts.map((c) => c / draws);
}

Deno.test("temperature 0 picks the largest logit", () => {
  assertEquals(sampleToken({ logits }, greedy, none, seededRandom(1)), 1);
});

Deno.test("sampling at temperature T draws from softmax(logits / T)", () => {
  const t = 0.7, draws = 40000;
  const exp = Array.from(logits, (l) => Math.exp(l / t)), z = exp.reduce((a, b) => a + b);
  const freq = histogram({ ...greedy, temperature: t }, draws);
  freq.forEach((f, i) =>
    assert(Math.abs(f - exp[i] / z) < 0.01, `token ${i}: ${f} vs ${exp[i] / z}`)
  );
});

Deno.test("top-k keeps only the k most likely tokens and top-p the smallest set reaching p", () => {
  const k2 = histogram({ ...greedy, temperature: 1, topK: 2 }, 5000);
  assertEquals(k2.map((f) => f > 0), [false, true, true, false, false]);
  // softmax(logits): token 1 ≈ 0.61, token 2 ≈ 0.22: p = 0.7 needs both, p = 0.5 only the first.
  const p7 = histogram({ ...greedy, temperature: 1, topP: 0.7 }, 5000);
  assertEquals(p7.map((f) => f > 0), [false, true, true, false, false]);
  const p5 = histogram({ ...greedy, temperature: 1, topP: 0.5 }, 1000);
  assertEquals(p5, [0, 1, 0, 0, 0]);
});

Deno.test("repetition penalty divides positive logits of seen tokens and multiplies negative ones", () => {
  // Token 1 (logit 3) seen, penalty 2 → 1.5 < token 2's 2: greedy moves to token 2.
  assertEquals(
    sampleToken({ logits }, { ...greedy, repetitionPenalty: 2 }, new Set([1]), Math.random),
    2,
  );
  // A seen negative logit gets more negative, never promoted.
  const neg = Float32Array.of(-1, -2);
  assertEquals(
    sampleToken({ logits: neg }, { ...greedy, repetitionPenalty: 3 }, new Set([0]), Math.random),
    1,
  );
});

Deno.test("the same seed gives the same draws", () => {
  const p = { ...greedy, temperature: 1.3, topK: 4, topP: 0.95 };
  const run = (seed: number) => {
    const rng = seededRandom(seed);
    return Array.from({ length: 50 }, () => sampleToken({ logits }, p, none, rng));
  };
  assertEquals(run(11), run(11));
  assert(run(11).join() !== run(12).join());
});

/** The plain definition: sort the whole vocabulary, cut to k, then to the head reaching p. */
function sortedReference(scores: Float32Array, p: typeof greedy, random: () => number): number {
  let order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  if (p.topK > 0) order = order.slice(0, p.topK);
  const w = order.map((i) => Math.exp((scores[i] - scores[order[0]]) / p.temperature));
  let total = w.reduce((s, x) => s + x, 0);
  if (p.topP < 1) {
    let kept = 0, mass = 0;
    while (kept < w.length && mass < p.topP * total) mass += w[kept++];
    order = order.slice(0, Math.max(kept, 1));
    total = mass;
  }
  let r = random() * total;
  for (let j = 0; j < order.length; j++) if ((r -= w[j]) < 0) return order[j];
  return order[order.length - 1];
}

Deno.test("top-k and top-p pick what sorting the whole vocabulary picks, ties included", () => {
  const rng = seededRandom(11);
  for (let trial = 0; trial < 400; trial++) {
    const vocab = [5, 64, 8192][trial % 3];
    // Every third trial has many equal logits: ties go to the lower token id.
    const scores = Float32Array.from(
      { length: vocab },
      () => trial % 3 === 0 ? Math.floor(rng() * 4) : rng() * 10 - 5,
    );
    const params = {
      temperature: [0.5, 1, 1.7][trial % 3],
      topK: [1, 3, 40, 0, 100_000][trial % 5],
      topP: [1, 0.9, 0.3][trial % 3 === 1 ? 1 : trial % 2],
      repetitionPenalty: 1,
    };
    if (params.topK === 0 && params.topP === 1) params.topP = 0.5;
    const seed = 1000 + trial;
    assertEquals(
      sampleToken({ logits: scores }, params, none, seededRandom(seed)),
      sortedReference(scores, params, seededRandom(seed)),
      `trial ${trial}: ${JSON.stringify(params)}`,
    );
  }
});

/** softmax(scores / t) rounded to float32, as the engine's graphs give it. */
function softmax32(scores: Float32Array, t: number): Float32Array {
  let max = -Infinity;
  for (const x of scores) max = Math.max(max, x);
  const e = Array.from(scores, (x) => Math.exp((x - max) / t)), z = e.reduce((a, b) => a + b);
  return Float32Array.from(e, (x) => x / z);
}

Deno.test("drawing from the engine's probabilities picks what exponentiating the logits picks", () => {
  const rng = seededRandom(5);
  for (let trial = 0; trial < 300; trial++) {
    const vocab = [5, 64, 8192][trial % 3];
    const scores = Float32Array.from({ length: vocab }, () => rng() * 12 - 6);
    const params = {
      temperature: [0.5, 1, 1.7][trial % 3],
      topK: [0, 3, 40, 0][trial % 4],
      topP: [1, 0.9, 0.3][(trial >> 2) % 3],
      repetitionPenalty: 1,
    };
    const probs = softmax32(scores, params.temperature);
    const seed = 2000 + trial;
    assertEquals(
      sampleToken({ logits: scores, probs }, params, none, seededRandom(seed)),
      sampleToken({ logits: scores }, params, none, seededRandom(seed)),
      `trial ${trial}: ${JSON.stringify(params)}`,
    );
    // The engine leaves the logits out when every row has a temperature and no penalty.
    assertEquals(
      sampleToken({ probs }, params, none, seededRandom(seed)),
      sampleToken({ logits: scores }, params, none, seededRandom(seed)),
      `trial ${trial}, probabilities alone`,
    );
  }
  // And the probabilities are what is read: ones that disagree with the logits win.
  const all = { ...greedy, temperature: 1 };
  const onToken3 = Float32Array.of(0, 0, 0, 1, 0);
  for (let seed = 0; seed < 50; seed++) {
    assertEquals(sampleToken({ logits, probs: onToken3 }, all, none, seededRandom(seed)), 3);
  }
  // Top-2 is tokens 1 and 2 (about 73% / 27% by the logits); these probabilities weigh them 1 : 8.
  const favour2 = Float32Array.of(0.05, 0.1, 0.8, 0.03, 0.02);
  const rng2 = seededRandom(3);
  let twos = 0;
  for (let i = 0; i < 2000; i++) {
    if (sampleToken({ logits, probs: favour2 }, { ...all, topK: 2 }, none, rng2) === 2) twos++;
  }
  assert(Math.abs(twos / 2000 - 8 / 9) < 0.03, `token 2 drawn ${twos / 2000} of the time`);
});

Deno.test("greedy decoding and a repetition penalty refuse to sample without the logits", () => {
  const probs = Float32Array.of(0.1, 0.6, 0.2, 0.05, 0.05);
  assert.throws(() => sampleToken({ probs }, greedy, none, Math.random), /need the logits/);
  const penalty = { ...greedy, temperature: 1, repetitionPenalty: 1.2 };
  assert.throws(() => sampleToken({ probs }, penalty, none, Math.random), /need the logits/);
});

Deno.test("a repetition penalty makes sampling use the penalised logits, not the probabilities", () => {
  // Probabilities that put everything on token 3 would be wrong once token 1 is penalised.
  const probs = Float32Array.of(0, 0, 0, 1, 0);
  const p = { temperature: 1, topK: 1, topP: 1, repetitionPenalty: 2 };
  assertEquals(sampleToken({ logits, probs }, p, new Set([1]), seededRandom(1)), 2);
  const all = { ...p, topK: 0 };
  const drawn = new Set(
    Array.from(
      { length: 200 },
      (_, i) => sampleToken({ logits, probs }, all, new Set([1]), seededRandom(i)),
    ),
  );
  assert(drawn.size > 1 && drawn.has(2), `drew ${[...drawn]}`);
});

Deno.test("sampling needs nothing beyond what stepRequest asks a step for", () => {
  const probs = Float32Array.of(0.1, 0.6, 0.2, 0.05, 0.05);
  for (const temperature of [0, 0.8]) {
    for (const repetitionPenalty of [1, 1.3]) {
      const p = { temperature, topK: 2, topP: 0.9, repetitionPenalty };
      const r = stepRequest(p);
      // What the engine returns for this request (see RowRequest).
      const next = {
        ...(r.logits || !r.temperature ? { logits } : {}),
        ...(r.temperature ? { probs } : {}),
      };
      const token = sampleToken(next, p, new Set([1]), seededRandom(1));
      assert(token >= 0 && token < logits.length, `${JSON.stringify(p)} gave ${token}`);
    }
  }
});
