/**
 * Picking the next token from a step's output: repetition penalty, then greedy (temperature 0) or
 * sampling from the softmax at a temperature, restricted to the top k tokens and to the smallest
 * set whose probability reaches top p. Randomness comes only from the `random` passed in, so a
 * seed reproduces a generation. The engine's softmax at the temperature, when present, saves
 * exponentiating the whole vocabulary here in JavaScript.
 *
 * @example
 * ```ts
 * const rng = seededRandom(42);
 * const params = { temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1 };
 * const token = sampleToken({ logits }, params, seen, rng);
 * ```
 */
import type { NextToken, RowRequest } from "../../model/infer/mod.ts";

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

/**
 * What {@linkcode sampleToken} needs from a step for `p`: the probabilities at its temperature,
 * and the logits only for greedy decoding or a repetition penalty.
 */
export function stepRequest(p: SamplingParams): RowRequest {
  return { temperature: p.temperature, logits: p.repetitionPenalty !== 1 };
}

/**
 * Chooses the next token from a step's output. Greedy decoding and a repetition penalty read the
 * logits; otherwise the probabilities (softmax(logits / temperature), computed by the graph) are
 * used when present, and the logits are not needed at all. `seen` holds the prompt's and the
 * generated tokens.
 */
export function sampleToken(
  next: NextToken,
  p: SamplingParams,
  seen: ReadonlySet<number>,
  random: () => number,
): number {
  const penalised = p.repetitionPenalty !== 1;
  if (p.temperature > 0 && !penalised && next.probs) return sample(next.probs, "probs", p, random);
  if (!next.logits) {
    throw new Error("sampleToken: greedy decoding and a repetition penalty need the logits");
  }
  const scores = penalised ? penalise(next.logits, seen, p.repetitionPenalty) : next.logits;
  if (p.temperature === 0) return argmax(scores);
  return sample(scores, "logits", p, random);
}

/**
 * Draws at `p.temperature` with top k and top p from `scores`: logits, or probabilities already
 * taken at the temperature (which rank as their logits do).
 */
function sample(
  scores: Float32Array,
  kind: "logits" | "probs",
  p: SamplingParams,
  random: () => number,
): number {
  if (p.topK === 0 && p.topP >= 1) {
    return kind === "probs" ? draw(scores, random) : sampleAll(scores, p.temperature, random);
  }
  // Only the top k, or the head that reaches top p, is ever put in order, never the whole
  // vocabulary: sorting it is far more work than the decode step that produced it.
  const order = p.topK > 0 ? largest(scores, p.topK)[Symbol.iterator]() : descending(scores);
  const first = order.next().value!;
  const weight = kind === "probs"
    ? (i: number) => scores[i] / scores[first]
    : (i: number) => Math.exp((scores[i] - scores[first]) / p.temperature);
  const candidates = [first], weights = [1];
  // The mass top p is measured against: the k candidates', or the whole vocabulary's.
  let total = 1;
  if (p.topK > 0) {
    for (const i of order) {
      candidates.push(i);
      total += weights[weights.push(weight(i)) - 1];
    }
  } else {
    total = 0;
    for (let i = 0; i < scores.length; i++) total += weight(i);
  }
  if (p.topP < 1) {
    let kept = 0, mass = 0;
    while (mass < p.topP * total) {
      if (kept === candidates.length) {
        const next = order.next();
        if (next.done) break;
        candidates.push(next.value);
        weights.push(weight(next.value));
      }
      mass += weights[kept++];
    }
    candidates.length = Math.max(kept, 1);
    total = mass || weights[0];
  }
  let r = random() * total;
  for (let j = 0; j < candidates.length; j++) {
    r -= weights[j];
    if (r < 0) return candidates[j];
  }
  return candidates[candidates.length - 1];
}

/** `a` ranks before `b`: a larger score, or the same score at a lower index. */
function ranksBefore(scores: Float32Array, a: number, b: number): boolean {
  return scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
}

/**
 * The `k` best-ranked indices, best first (ties to the lower index): one pass keeping them in a
 * min-heap whose root is the worst kept, so most indices cost one comparison.
 */
export function largest(scores: Float32Array, k: number): number[] {
  const heap: number[] = [];
  const worse = (a: number, b: number) => ranksBefore(scores, b, a);
  for (let i = 0; i < scores.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1, up = (c - 1) >> 1; c > 0 && worse(heap[c], heap[up]);) {
        [heap[c], heap[up]] = [heap[up], heap[c]];
        c = up;
        up = (c - 1) >> 1;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(heap, 0, k, worse);
    }
  }
  return heap.sort((a, b) => (ranksBefore(scores, a, b) ? -1 : 1));
}

/**
 * Indices of `scores` from the best-ranked down, popped one at a time from a binary max-heap
 * built in linear time.
 */
function* descending(scores: Float32Array): Generator<number, void, undefined> {
  const heap = Int32Array.from(scores.keys());
  const before = (a: number, b: number) => ranksBefore(scores, a, b);
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i, heap.length, before);
  for (let n = heap.length; n > 0; n--) {
    yield heap[0];
    heap[0] = heap[n - 1];
    siftDown(heap, 0, n - 1, before);
  }
}

/** Moves `heap[i]` down the first `n` entries until no child belongs `above` it. */
function siftDown(
  heap: number[] | Int32Array,
  i: number,
  n: number,
  above: (a: number, b: number) => boolean,
): void {
  while (true) {
    const l = 2 * i + 1, r = l + 1;
    let top = i;
    if (l < n && above(heap[l], heap[top])) top = l;
    if (r < n && above(heap[r], heap[top])) top = r;
    if (top === i) return;
    [heap[i], heap[top]] = [heap[top], heap[i]];
    i = top;
  }
}

/** Reused by {@linkcode sampleAll}: a fresh array a token cost as much as the draw. */
let scratch = new Float64Array(0);

/** Draws from softmax(scores / t) over the whole vocabulary, without sorting. */
function sampleAll(scores: Float32Array, t: number, random: () => number): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  if (scratch.length < scores.length) scratch = new Float64Array(scores.length);
  const weights = scratch;
  let total = 0;
  for (let i = 0; i < scores.length; i++) total += weights[i] = Math.exp((scores[i] - max) / t);
  let r = random() * total;
  for (let i = 0; i < scores.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return argmax(scores);
}

/**
 * Draws index i with probability `probs[i]`. Where rounding leaves the sum short of the draw, the
 * last token with any probability is taken, as a draw scaled by the exact sum would.
 */
function draw(probs: Float32Array, random: () => number): number {
  let r = random();
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i];
    if (r < 0) return i;
  }
  let last = probs.length - 1;
  while (last > 0 && probs[last] === 0) last--;
  return last;
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
