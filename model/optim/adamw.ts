/**
 * AdamW on flat fp32 buffers, in PyTorch's order (torch.optim.AdamW, single-tensor path): first the
 * decoupled weight decay `p -= lr·wd·p` (only on parameters flagged `decay`), then the moments
 * `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, then
 * `p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)`.
 * Every elementwise op rounds to fp32 as PyTorch's fp32 kernels do (see `adamwKernel`).
 *
 * @example
 * ```ts
 * const w = new Float32Array([0.5, -0.5]);
 * const opt = new AdamW([{ name: "w", data: w, decay: true }], { weightDecay: 0.1 });
 * opt.step(new Map([["w", new Float32Array([0.1, 0.2])]]), 1e-3);
 * const saved = opt.exportState(); // { step: 1, m: Map, v: Map }
 * ```
 */
import { InputError } from "../errors.ts";

/** A parameter the optimizer owns and updates in place. */
export interface AdamWParam {
  /** The checkpoint name, e.g. `transformer.h.0.attn.c_attn.weight`. */
  name: string;
  data: Float32Array;
  /** Whether weight decay applies: true for matrices and embeddings, false for biases and norms. */
  decay: boolean;
}

/**
 * Hyper-parameters; the learning rate is passed to each step (it follows a schedule). Defaults are
 * GPT-2/3 practice as in nanoGPT (β1 0.9, β2 0.95, eps 1e-8, weight decay 0.1), not PyTorch's.
 */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** The optimizer's state, as a checkpoint stores it: the step count and both moments per name. */
export interface AdamWState {
  step: number;
  m: ReadonlyMap<string, Float32Array>;
  v: ReadonlyMap<string, Float32Array>;
}

/** nanoGPT's rule for which parameters decay: every tensor of two or more dimensions. */
export function decaysByShape(shape: readonly number[]): boolean {
  return shape.length >= 2;
}

/** AdamW with decoupled weight decay; see the module doc for the exact update. */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken so far (t in the bias corrections is `stepCount` after increment). */
  stepCount = 0;
  readonly #params: AdamWParam[];
  readonly #m = new Map<string, Float32Array>();
  readonly #v = new Map<string, Float32Array>();

  constructor(params: readonly AdamWParam[], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.1;
    this.#params = [...params];
    for (const p of params) {
      if (this.#m.has(p.name)) throw new InputError(p.name, "Parameter name appears twice");
      this.#m.set(p.name, new Float32Array(p.data.length));
      this.#v.set(p.name, new Float32Array(p.data.length));
    }
  }

  /** The parameters, in the order given. */
  get params(): readonly AdamWParam[] {
    return this.#params;
  }

  /**
   * One update of every parameter with its gradient (by name) at learning rate `lr`. Gradients must
   * already be unscaled, averaged and clipped.
   */
  step(grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    for (const p of this.#params) {
      const g = grads.get(p.name);
      if (g === undefined) throw new InputError(p.name, "No gradient for parameter");
      if (g.length !== p.data.length) {
        throw new InputError(
          p.name,
          `Gradient has ${g.length} elements, parameter ${p.data.length}`,
        );
      }
    }
    this.stepCount++;
    const { beta1, beta2, eps } = this;
    const bias1 = 1 - beta1 ** this.stepCount;
    const bias2Sqrt = Math.sqrt(1 - beta2 ** this.stepCount);
    const stepSize = lr / bias1;
    for (const p of this.#params) {
      const w = p.data, g = grads.get(p.name)!, m = this.#m.get(p.name)!, v = this.#v.get(p.name)!;
      const keep = p.decay ? 1 - lr * this.weightDecay : 1;
      adamwKernel(w, g, m, v, keep, beta1, beta2, stepSize, bias2Sqrt, eps);
    }
  }

  /**
   * The moments and the step count, for a checkpoint: copies by default; `{ copy: false }` hands
   * out the live buffers (no extra memory, but they change with the next step).
   */
  exportState(options: { copy?: boolean } = {}): AdamWState {
    const copy = (src: Map<string, Float32Array>) =>
      options.copy === false ? new Map(src) : new Map([...src].map(([k, a]) => [k, a.slice()]));
    return { step: this.stepCount, m: copy(this.#m), v: copy(this.#v) };
  }

  /** Restores moments and step count; every parameter must be present with its exact length. */
  importState(state: AdamWState): void {
    for (const p of this.#params) {
      for (const [which, src] of [["m", state.m], ["v", state.v]] as const) {
        const a = src.get(p.name);
        if (a === undefined) throw new InputError(p.name, `Optimizer state lacks "${which}"`);
        if (a.length !== p.data.length) {
          throw new InputError(
            p.name,
            `Optimizer state "${which}" has ${a.length} elements, parameter ${p.data.length}`,
          );
        }
      }
    }
    for (const p of this.#params) {
      this.#m.get(p.name)!.set(state.m.get(p.name)!);
      this.#v.get(p.name)!.set(state.v.get(p.name)!);
    }
    this.stepCount = state.step;
  }
}

/**
 * The per-element update, written as PyTorch's fp32 kernels compute it: each tensor op rounds to
 * fp32 (`Math.fround`), scalars are cast to fp32 first, and `add_(g, alpha)` and `addcmul_` end in
 * a fused multiply-add (one rounding; a product of two fp32 values is exact in float64). Checked bit
 * for bit against torch 1.13's `torch.optim.AdamW` (tests/model/optim_test.ts). A plain function over typed arrays so V8 compiles one tight loop.
 */
function adamwKernel(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  keep: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  bias2Sqrt: number,
  eps: number,
): void {
  const f = Math.fround;
  const keep32 = f(keep), b1 = f(beta1), b2 = f(beta2), c1 = f(1 - beta1), c2 = f(1 - beta2);
  const bc2 = f(bias2Sqrt), eps32 = f(eps), negStep = f(-stepSize);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const p = keep32 === 1 ? w[i] : f(w[i] * keep32); // param.mul_(1 - lr·wd)
    const mi = (m[i] = f(f(m[i] * b1) + c1 * gi)); // exp_avg.mul_(β1).add_(g, alpha=1-β1)
    const vi = (v[i] = f(f(v[i] * b2) + f(c2 * gi) * gi)); // .mul_(β2).addcmul_(g, g, 1-β2)
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps32); // (v.sqrt() / sqrt(bc2)).add_(eps)
    w[i] = f(p + f(f(negStep * mi) / denom)); // param.addcdiv_(m, denom, value=-lr/bc1)
  }
}
