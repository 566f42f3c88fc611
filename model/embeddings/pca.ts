/**
 * Principal component analysis in float64, by power iteration on the covariance of the centred
 * rows, each new direction Gram–Schmidt-orthogonalised against the ones already found. Enough for
 * the few components a 2-D picture needs; deterministic (a fixed start vector, signs fixed so the
 * largest-magnitude entry of each component is positive).
 *
 * @example
 * ```ts
 * const { coordinates, explained } = pca(words.map((w) => w.vector), 2);
 * // coordinates[i] = [pc1, pc2] of row i; explained = [0.31, 0.12] (fractions of total variance)
 * ```
 */

/** What {@linkcode pca} returns. */
export interface PcaResult {
  /** Each input row projected onto the components: n rows of `components` numbers. */
  coordinates: number[][];
  /** Unit-length principal directions, largest variance first. */
  components: Float64Array[];
  /** Variance along each component (eigenvalues of the covariance, divisor n − 1). */
  variances: number[];
  /** Each component's share of the total variance (the covariance's trace). */
  explained: number[];
}

/** The first `components` principal components of `rows` (all of one length). */
export function pca(
  rows: readonly ArrayLike<number>[],
  components = 2,
  options: { maxIterations?: number; tolerance?: number } = {},
): PcaResult {
  const n = rows.length, d = n > 0 ? rows[0].length : 0;
  if (n < 2) throw new RangeError(`PCA needs at least 2 rows, got ${n}`);
  if (components < 1 || components > d) {
    throw new RangeError(`Asked for ${components} components of ${d}-dimensional rows`);
  }
  const maxIterations = options.maxIterations ?? 5000, tolerance = options.tolerance ?? 1e-12;

  const mean = new Float64Array(d);
  for (const r of rows) {
    if (r.length !== d) throw new RangeError(`Rows differ in length: ${r.length} and ${d}`);
    for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  }
  const centred = rows.map((r) => Float64Array.from({ length: d }, (_, j) => r[j] - mean[j]));
  const cov = new Float64Array(d * d);
  for (const x of centred) {
    for (let a = 0; a < d; a++) {
      const xa = x[a] / (n - 1);
      if (xa === 0) continue;
      for (let b = 0; b < d; b++) cov[a * d + b] += xa * x[b];
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];

  const found: Float64Array[] = [], variances: number[] = [];
  for (let k = 0; k < components; k++) {
    // A start vector with every entry different, so no component is orthogonal to it by symmetry.
    let v: Float64Array = Float64Array.from(
      { length: d },
      (_, j) => 1 + ((j * 7919 + k * 104729) % 97) / 97,
    );
    orthonormalise(v, found);
    for (let it = 0; it < maxIterations; it++) {
      const w = mulSym(cov, v, d);
      orthonormalise(w, found);
      let change = 0;
      for (let j = 0; j < d; j++) change = Math.max(change, Math.abs(w[j] - v[j]));
      v = w;
      if (change < tolerance) break;
    }
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) v = v.map((x) => -x);
    found.push(v);
    variances.push(dot(v, mulSym(cov, v, d)));
  }
  return {
    coordinates: centred.map((x) => found.map((c) => dot(x, c))),
    components: found,
    variances,
    explained: variances.map((s) => (trace > 0 ? s / trace : 0)),
  };
}

/** Removes the projections on `basis` (Gram–Schmidt, twice for stability) and normalises. */
function orthonormalise(v: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const b of basis) {
      const p = dot(v, b);
      for (let j = 0; j < v.length; j++) v[j] -= p * b[j];
    }
  }
  const norm = Math.sqrt(dot(v, v));
  // A zero vector means the remaining variance is zero; any orthogonal unit vector will do.
  if (norm === 0) {
    v[basis.length] = 1;
    return orthonormalise(v, basis);
  }
  for (let j = 0; j < v.length; j++) v[j] /= norm;
}

function mulSym(m: Float64Array, v: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    let s = 0;
    for (let b = 0; b < d; b++) s += m[a * d + b] * v[b];
    out[a] = s;
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
