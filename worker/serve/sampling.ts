/**
 * Picking the next token from logits: repetition penalty, then greedy (temperature 0) or sampling
 * from the softmax at a temperature, restricted to the top k tokens and to the smallest set whose
 * probability reaches top p. Randomness comes only from the `random` passed in, so a seed
 * reproduces a generation.
 *
 * @example
 * ```ts
 * const rng = seededRandom(42);
 * const next = sampleToken(logits, { temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1 }, seen, rng);
 * ```
 */

/** How to choose among the logits; validated at the edge (see params.ts). */
export interface SamplingParams {
  /** 0 picks the most likely token. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the most likely tokens until their probability reaches p; 1 keeps all. */
  topP: number;
  /** CTRL's penalty on tokens already seen: positive logits divided, negative multiplied; 1 is none. */
  repetitionPenalty: number;
}

/** Chooses the next token. `seen` holds the prompt's and the generated tokens. */
export function sampleToken(
  logits: Float32Array,
  p: SamplingParams,
  seen: ReadonlySet<number>,
  random: () => number,
): number {
  const scores = p.repetitionPenalty === 1 ? logits : penalise(logits, seen, p.repetitionPenalty);
  if (p.temperature === 0) return argmax(scores);
  if (p.topK === 0 && p.topP >= 1) return sampleAll(scores, p.temperature, random);
  let candidates = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  if (p.topK > 0) candidates = candidates.slice(0, p.topK);
  const max = scores[candidates[0]];
  const weights = candidates.map((i) => Math.exp((scores[i] - max) / p.temperature));
  let total = weights.reduce((s, w) => s + w, 0);
  if (p.topP < 1) {
    let kept = 0, mass = 0;
    while (kept < weights.length && mass < p.topP * total) mass += weights[kept++];
    candidates = candidates.slice(0, Math.max(kept, 1));
    total = mass || weights[0];
  }
  let r = random() * total;
  for (let j = 0; j < candidates.length; j++) {
    r -= weights[j];
    if (r < 0) return candidates[j];
  }
  return candidates[candidates.length - 1];
}

/** Draws from softmax(scores / t) over the whole vocabulary, without sorting. */
function sampleAll(scores: Float32Array, t: number, random: () => number): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  const weights = new Float64Array(scores.length);
  let total = 0;
  for (let i = 0; i < scores.length; i++) total += weights[i] = Math.exp((scores[i] - max) / t);
  let r = random() * total;
  for (let i = 0; i < scores.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return argmax(scores);
}

/** Index of the largest score (the first on ties). */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

function penalise(logits: Float32Array, seen: ReadonlySet<number>, penalty: number): Float32Array {
  const out = logits.slice();
  for (const id of seen) out[id] = out[id] > 0 ? out[id] / penalty : out[id] * penalty;
  return out;
}

/**
 * mulberry32 seeded from a 64-bit-safe integer: small, fast, and the same sequence on every
 * machine for the same seed.
 */
export function seededRandom(seed: number): () => number {
  let a = (seed ^ Math.floor(seed / 4294967296)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
