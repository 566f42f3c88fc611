/**
 * Linear warmup then cosine decay, as in llm.c and nanoGPT. `step` is the 0-based index of the
 * optimizer step about to be taken: steps 0..warmupSteps-1 ramp linearly up to `lr` (reaching it
 * at warmupSteps-1), then the rate follows half a cosine from `lr` at `warmupSteps` down to `minLr`
 * at `totalSteps`, and stays at `minLr` after.
 *
 * @example
 * ```ts
 * const s = { lr: 6e-4, warmupSteps: 10, totalSteps: 100, minLr: 6e-5 };
 * lrAt(0, s); // 6e-5
 * lrAt(100, s); // 6e-5
 * ```
 */

/** The schedule's parameters. */
export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr: number;
}

/** The learning rate for optimizer step `step` (0-based). */
export function lrAt(step: number, s: LrSchedule): number {
  if (!(s.warmupSteps >= 0 && s.totalSteps >= s.warmupSteps)) {
    throw new RangeError(
      `Schedule needs 0 <= warmupSteps <= totalSteps, got ${s.warmupSteps} and ${s.totalSteps}`,
    );
  }
  if (!(s.minLr >= 0 && s.minLr <= s.lr)) {
    throw new RangeError(`Schedule needs 0 <= minLr <= lr, got ${s.minLr} and ${s.lr}`);
  }
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const progress = (step - s.warmupSteps) / (s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (s.lr - s.minLr);
}
