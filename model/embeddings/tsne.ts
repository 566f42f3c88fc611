/**
 * Exact t-SNE (van der Maaten & Hinton, 2008) for the few hundred points a labelled picture can show:
 * O(n²) per iteration, float64, seeded. Rows are L2-normalised first, so the input distance
 * |a − b|² = 2 − 2·cos(a, b) ranks neighbours exactly as cosine similarity does.
 *
 * Unlike PCA, t-SNE keeps neighbourhoods and discards global geometry: distances between clusters
 * and cluster sizes in the picture mean little.
 *
 * @example
 * ```ts
 * const { coordinates, kl } = tsne(words.map((w) => w.vector), { perplexity: 5, seed: 1 });
 * ```
 */
import { Rng } from "../optim/mod.ts";

/** Options for {@linkcode tsne}. */
export interface TsneOptions {
  /** Effective number of neighbours; at most (n − 1) / 3. Default min(30, (n − 1) / 3). */
  perplexity?: number;
  /** Gradient steps (default 1000). */
  iterations?: number;
  /** Step size (default max(n / 12, 50)). */
  learningRate?: number;
  seed?: number;
}

/** What {@linkcode tsne} returns. */
export interface TsneResult {
  /** One [x, y] per input row. */
  coordinates: number[][];
  /** KL(P ‖ Q) after the last step: how much neighbourhood structure the picture lost. */
  kl: number;
  /** KL after each 50 steps, for checking convergence. */
  klHistory: number[];
  perplexity: number;
}

/** Embeds `rows` in two dimensions. */
export function tsne(rows: readonly ArrayLike<number>[], options: TsneOptions = {}): TsneResult {
  const n = rows.length;
  if (n < 4) throw new RangeError(`t-SNE needs at least 4 rows, got ${n}`);
  const maxPerplexity = (n - 1) / 3;
  const perplexity = options.perplexity ?? Math.min(30, maxPerplexity);
  if (!(perplexity >= 1 && perplexity <= maxPerplexity)) {
    throw new RangeError(
      `t-SNE perplexity must be between 1 and ${
        maxPerplexity.toFixed(1)
      } for ${n} points, got ${perplexity}`,
    );
  }
  const iterations = options.iterations ?? 1000;
  const eta = options.learningRate ?? Math.max(n / 12, 50);
  const p = affinities(squaredDistances(normalised(rows)), perplexity);

  const rng = new Rng(options.seed ?? 0);
  const y = new Float64Array(2 * n).map(() => rng.normal() * 1e-4);
  const update = new Float64Array(2 * n), gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n), num = new Float64Array(n * n);
  const klHistory: number[] = [];
  let kl = NaN;
  for (let it = 0; it < iterations; it++) {
    // Early exaggeration pulls clusters together before they settle.
    const exaggeration = it < 250 ? 12 : 1, momentum = it < 250 ? 0.5 : 0.8;
    let sumNum = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        num[i * n + j] = num[j * n + i] = q;
        sumNum += 2 * q;
      }
    }
    grad.fill(0);
    kl = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const q = Math.max(num[i * n + j] / sumNum, 1e-300), pij = p[i * n + j];
        const f = 4 * (exaggeration * pij - q) * num[i * n + j];
        grad[2 * i] += f * (y[2 * i] - y[2 * j]);
        grad[2 * i + 1] += f * (y[2 * i + 1] - y[2 * j + 1]);
        if (pij > 0) kl += pij * Math.log(pij / q);
      }
    }
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) === Math.sign(update[k])
        ? Math.max(gains[k] * 0.8, 0.01)
        : gains[k] + 0.2;
      update[k] = momentum * update[k] - eta * gains[k] * grad[k];
      y[k] += update[k];
    }
    if (it % 50 === 49) klHistory.push(kl);
  }
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += y[2 * i] / n;
    my += y[2 * i + 1] / n;
  }
  return {
    coordinates: Array.from({ length: n }, (_, i) => [y[2 * i] - mx, y[2 * i + 1] - my]),
    kl,
    klHistory,
    perplexity,
  };
}

function normalised(rows: readonly ArrayLike<number>[]): Float64Array[] {
  return rows.map((r) => {
    let s = 0;
    for (let j = 0; j < r.length; j++) s += r[j] * r[j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    return Float64Array.from({ length: r.length }, (_, j) => r[j] * inv);
  });
}

function squaredDistances(rows: Float64Array[]): Float64Array {
  const n = rows.length, d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < rows[i].length; k++) s += (rows[i][k] - rows[j][k]) ** 2;
      d[i * n + j] = d[j * n + i] = s;
    }
  }
  return d;
}

/**
 * Symmetric joint probabilities p_ij = (p_j|i + p_i|j) / 2n, each conditional a Gaussian whose
 * precision is found by bisection so its entropy is log(perplexity).
 */
function affinities(dist: Float64Array, perplexity: number): Float64Array {
  const n = Math.round(Math.sqrt(dist.length)), target = Math.log(perplexity);
  const cond = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let lo = 0, hi = Infinity, beta = 1;
    for (let step = 0; step < 100; step++) {
      let sum = 0, weighted = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const e = Math.exp(-beta * dist[i * n + j]);
        cond[i * n + j] = e;
        sum += e;
        weighted += e * dist[i * n + j];
      }
      const entropy = Math.log(sum) + beta * weighted / sum;
      for (let j = 0; j < n; j++) cond[i * n + j] /= sum;
      if (Math.abs(entropy - target) < 1e-6) break;
      if (entropy > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) p[i * n + j] = (cond[i * n + j] + cond[j * n + i]) / (2 * n);
  }
  return p;
}
