/**
 * Decimation for line charts: a curve of 100k points drawn into 800 pixel columns needs only the
 * points that decide what those columns show. This is M4 (Jugel et al., VLDB 2014): for each
 * column, the first, last, lowest and highest point. The line drawn through them covers exactly
 * the pixels the full line covers, so spikes and the noise band stay visible (an average would
 * hide a divergence; sampling every k-th point would miss it), and the cost is one pass.
 *
 * Plain JavaScript, because the browser loads it as it is; the Deno tests import the same file.
 *
 * @example
 * ```js
 * const [x, y] = decimate(steps, losses, 800); // at most 3200 points, in x order
 * ```
 */

/**
 * Keeps the first, last, minimum and maximum point of each of `columns` equal-width x ranges.
 * `xs` must be ascending; points whose y is null or NaN are left out. Input with no more than
 * 4 × `columns` drawable points is returned whole (as new arrays).
 *
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number | null>} ys
 * @param {number} columns
 * @returns {[number[], number[]]}
 */
export function decimate(xs, ys, columns) {
  const keep = [];
  for (let i = 0; i < xs.length; i++) {
    if (ys[i] !== null && !Number.isNaN(ys[i]) && xs[i] !== null) keep.push(i);
  }
  if (keep.length <= 4 * columns || columns < 1) {
    return [keep.map((i) => xs[i]), keep.map((i) => /** @type {number} */ (ys[i]))];
  }
  const x0 = xs[keep[0]], span = xs[keep[keep.length - 1]] - x0 || 1;
  const column = (i) => Math.min(columns - 1, Math.floor((xs[i] - x0) / span * columns));
  /** @type {number[]} */
  const picked = [];
  let start = 0;
  while (start < keep.length) {
    const c = column(keep[start]);
    let end = start, lo = keep[start], hi = keep[start];
    while (end + 1 < keep.length && column(keep[end + 1]) === c) {
      end++;
      const i = keep[end];
      if (ys[i] < ys[lo]) lo = i;
      if (ys[i] > ys[hi]) hi = i;
    }
    // Indices ascend with x, so sorting them keeps the line going left to right.
    for (const i of [...new Set([keep[start], lo, hi, keep[end]])].sort((a, b) => a - b)) {
      picked.push(i);
    }
    start = end + 1;
  }
  return [picked.map((i) => xs[i]), picked.map((i) => /** @type {number} */ (ys[i]))];
}
