/**
 * Global-norm gradient clipping over many buffers, as torch.nn.utils.clip_grad_norm_: the norm of
 * all gradients together (accumulated in float64), and when it exceeds `maxNorm` every buffer is
 * scaled by `maxNorm / (norm + 1e-6)`.
 *
 * @example
 * ```ts
 * const norm = clipGradNorm([new Float32Array([3]), new Float32Array([4])], 1); // 5, buffers scaled
 * ```
 */

/** The L2 norm of all buffers taken as one vector, accumulated in float64. */
export function globalNorm(buffers: readonly Float32Array[]): number {
  let sum = 0;
  for (const b of buffers) {
    for (let i = 0; i < b.length; i++) sum += b[i] * b[i];
  }
  return Math.sqrt(sum);
}

/**
 * Clips in place to global norm `maxNorm` and returns the norm before clipping. A non-finite norm
 * leaves the buffers untouched: the caller should skip the step.
 */
export function clipGradNorm(buffers: readonly Float32Array[], maxNorm: number): number {
  const norm = globalNorm(buffers);
  if (Number.isFinite(norm) && norm > maxNorm) scaleBuffers(buffers, maxNorm / (norm + 1e-6));
  return norm;
}

/** Multiplies every element of every buffer by `factor`, in place. */
export function scaleBuffers(buffers: readonly Float32Array[], factor: number): void {
  for (const b of buffers) {
    for (let i = 0; i < b.length; i++) b[i] *= factor;
  }
}
