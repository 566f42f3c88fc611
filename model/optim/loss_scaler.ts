/**
 * Dynamic loss scaling for fp16 training, as torch.amp.GradScaler: the loss is multiplied by
 * `scale` before the backward pass; a step whose gradients hold an inf or NaN is skipped and the
 * scale is multiplied by `backoffFactor`; after `growthInterval` clean steps in a row it is
 * multiplied by `growthFactor`.
 *
 * @example
 * ```ts
 * const scaler = new LossScaler();
 * const overflow = scaler.unscale(grads); // divides by the scale, reports inf/NaN
 * if (!overflow) optimizer.step(gradMap, lr);
 * scaler.update(overflow);
 * ```
 */

/** Options; the defaults are GradScaler's. */
export interface LossScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  /** A floor, so repeated overflows cannot drive the scale to zero (default 2^-24). */
  minScale?: number;
}

/** What a checkpoint stores to resume the scaler exactly. */
export interface LossScalerState {
  scale: number;
  goodSteps: number;
}

/** True if any element of any buffer is inf or NaN. */
export function hasInfOrNaN(buffers: readonly Float32Array[]): boolean {
  for (const b of buffers) {
    for (let i = 0; i < b.length; i++) {
      const x = b[i];
      if (x - x !== 0) return true; // inf - inf and NaN - NaN are NaN
    }
  }
  return false;
}

/** The dynamic loss scaler; see the module doc. */
export class LossScaler {
  scale: number;
  /** Clean steps since the last growth or backoff. */
  goodSteps = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly minScale: number;

  constructor(options: LossScalerOptions = {}) {
    this.scale = options.initScale ?? 65536;
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    this.minScale = options.minScale ?? 2 ** -24;
  }

  /** True if any element of any buffer is inf or NaN. */
  hasInfOrNaN(buffers: readonly Float32Array[]): boolean {
    return hasInfOrNaN(buffers);
  }

  /** Divides the gradients by the scale in place; returns true if they hold an inf or NaN. */
  unscale(buffers: readonly Float32Array[]): boolean {
    const inv = 1 / this.scale;
    let found = false;
    for (const b of buffers) {
      for (let i = 0; i < b.length; i++) {
        const x = (b[i] *= inv);
        if (x - x !== 0) found = true;
      }
    }
    return found;
  }

  /** Adjusts the scale after a step; returns true if the step must be skipped (`foundInf`). */
  update(foundInf: boolean): boolean {
    if (foundInf) {
      this.scale = Math.max(this.scale * this.backoffFactor, this.minScale);
      this.goodSteps = 0;
    } else if (++this.goodSteps >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.goodSteps = 0;
    }
    return foundInf;
  }

  exportState(): LossScalerState {
    return { scale: this.scale, goodSteps: this.goodSteps };
  }

  importState(state: LossScalerState): void {
    this.scale = state.scale;
    this.goodSteps = state.goodSteps;
  }
}
