/**
 * The optimizer step as one ONNX graph, for weights kept in GPU memory (`webgpu`): unscale the
 * accumulated gradients, find an fp16 overflow, clip to a global norm, decay, update the moments
 * and the weights, in the same order and with the same formulas as {@linkcode AdamW},
 * {@linkcode clipGradNorm} and {@linkcode LossScaler}. Weights, moments and gradients stay on the
 * device; the step reads back two scalars (the gradient norm and whether it overflowed).
 *
 * Frozen parameters (fine-tuning) keep their place in the flat weights but have no gradient, no
 * moments and no decay: the gradients and moments cover the trainable parameters only, as the
 * train step's gradient buffer and {@linkcode AdamW}'s state do, and the graph copies the frozen
 * ranges of the weights through unchanged.
 *
 * The results equal the TypeScript step's to a few fp32 ulps, not bit for bit: WGSL does not promise
 * correctly rounded division and square roots, the norm is summed in fp32 (not float64), and the
 * overflow check is on the norm, which also overflows when the squares of finite gradients sum past
 * fp32's range. Every run on one device repeats its own bits, so a resumed run matches an
 * uninterrupted one; two ranks of a ring never use this graph (see docs/gpu.md).
 *
 * @example
 * ```ts
 * const opt = await DeviceAdamW.create(specs, memory, { weightDecay: 0.1 });
 * const { params, gradNorm, skipped } = await opt.step(params, grads, { lr, lossScale, maxNorm });
 * ```
 */
import type { DeviceMemory } from "../device_memory.ts";
import { Graph, numel, type Value } from "../graph/mod.ts";
import { createSession, ort } from "../runtime.ts";
import type { AdamWOptions, AdamWState } from "./adamw.ts";

/**
 * A parameter as the update sees it: its length in the flat buffer, whether it decays, and whether
 * it is frozen (held fixed, without gradient or moments).
 */
export interface FlatParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly decay: boolean;
  readonly frozen?: boolean;
}

/** One step's settings. */
export interface DeviceStepOptions {
  lr: number;
  /** The gradients were multiplied by this; 1 without loss scaling. */
  lossScale: number;
  /** Clip to this global norm (Infinity: no clipping). */
  maxNorm: number;
}

/** What a step returns: the new weights (device) and the two scalars it read back. */
export interface DeviceStepResult {
  params: ort.Tensor;
  gradNorm: number;
  /** The gradients held an inf or NaN: weights and moments were left as they were. */
  skipped: boolean;
}

/** AdamW over flat device buffers; see the module doc. */
export class DeviceAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  stepCount = 0;
  /** The trainable parameters, in flat order: the layout of the moments. */
  readonly #trainable: readonly FlatParam[];
  readonly #memory: DeviceMemory;
  readonly #session: ort.InferenceSession;
  readonly #decay: ort.Tensor;
  #m: ort.Tensor;
  #v: ort.Tensor;

  private constructor(
    params: readonly FlatParam[],
    memory: DeviceMemory,
    session: ort.InferenceSession,
    tensors: { decay: ort.Tensor; m: ort.Tensor; v: ort.Tensor },
    options: AdamWOptions,
  ) {
    this.#trainable = params.filter((p) => !p.frozen);
    this.#memory = memory;
    this.#session = session;
    this.#decay = tensors.decay;
    this.#m = tensors.m;
    this.#v = tensors.v;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.1;
  }

  /**
   * Compiles the update for `params` (every parameter of the flat weights, in order, frozen ones
   * included) with zero moments.
   */
  static async create(
    params: readonly FlatParam[],
    memory: DeviceMemory,
    options: AdamWOptions = {},
  ): Promise<DeviceAdamW> {
    const size = flatSize(params.filter((p) => !p.frozen));
    const session = await createSession(
      buildDeviceAdamWGraph(params, { ...options }).toModel(),
      { device: { kind: "webgpu" }, outputsOnDevice: ["params_out", "m_out", "v_out"] },
    );
    const mask = new Uint8Array(size);
    let at = 0;
    for (const p of params.filter((p) => !p.frozen)) {
      const n = numel(p.shape);
      if (p.decay) mask.fill(1, at, at + n);
      at += n;
    }
    const tensors = {
      decay: await memory.upload(mask, [size]),
      m: await memory.zeros([size]),
      v: await memory.zeros([size]),
    };
    return new DeviceAdamW(params, memory, session, tensors, options);
  }

  /**
   * One update of `params` (all the flat weights) with the accumulated `grads` (the trainable
   * parameters'; both device tensors, neither disposed here). Returns the new weights; the moments
   * are replaced in place.
   */
  async step(
    params: ort.Tensor,
    grads: ort.Tensor,
    o: DeviceStepOptions,
  ): Promise<DeviceStepResult> {
    const t = this.stepCount + 1;
    const scalar = (x: number) => new ort.Tensor("float32", Float32Array.of(x), [1]);
    const out = await this.#session.run({
      params,
      grads,
      m: this.#m,
      v: this.#v,
      decay: this.#decay,
      inv_scale: scalar(1 / o.lossScale),
      max_norm: scalar(o.maxNorm),
      keep: scalar(1 - o.lr * this.weightDecay),
      neg_step: scalar(-o.lr / (1 - this.beta1 ** t)),
      bias2_sqrt: scalar(Math.sqrt(1 - this.beta2 ** t)),
    });
    this.#m.dispose();
    this.#v.dispose();
    this.#m = out.m_out;
    this.#v = out.v_out;
    const skipped = (out.found_inf.data as Uint8Array)[0] === 1;
    if (!skipped) this.stepCount = t;
    return { params: out.params_out, gradNorm: Number(out.grad_norm.data[0]), skipped };
  }

  /** The moments by parameter name and the step count, copied to the host. */
  async exportState(): Promise<AdamWState> {
    const split = (flat: Float32Array) => {
      const out = new Map<string, Float32Array>();
      let at = 0;
      for (const p of this.#trainable) {
        const n = numel(p.shape);
        out.set(p.name, flat.slice(at, at + n));
        at += n;
      }
      return out;
    };
    const m = await this.#memory.download<"float32">(this.#m);
    const v = await this.#memory.download<"float32">(this.#v);
    return { step: this.stepCount, m: split(m), v: split(v) };
  }

  /** Copies moments and step count (checked by the host {@linkcode AdamW} first) to the device. */
  async importState(state: AdamWState): Promise<void> {
    const size = flatSize(this.#trainable);
    const join = (parts: ReadonlyMap<string, Float32Array>) => {
      const flat = new Float32Array(size);
      let at = 0;
      for (const p of this.#trainable) {
        flat.set(parts.get(p.name)!, at);
        at += numel(p.shape);
      }
      return flat;
    };
    const m = await this.#memory.upload(join(state.m), [size]);
    const v = await this.#memory.upload(join(state.v), [size]);
    this.#m.dispose();
    this.#v.dispose();
    this.#m = m;
    this.#v = v;
    this.stepCount = state.step;
  }

  /** Frees the moments, the decay mask and the session. */
  async release(): Promise<void> {
    for (const t of [this.#m, this.#v, this.#decay]) t.dispose();
    await this.#session.release();
  }
}

/**
 * The update graph for the flat weights of `params`. Inputs: `params` [all elements], `grads`,
 * `m`, `v` [trainable elements], `decay` bool [trainable elements], and per-step scalars [1]:
 * `inv_scale`, `max_norm`, `keep` (1 − lr·wd), `neg_step` (−lr / (1 − β1ᵗ)), `bias2_sqrt`
 * (√(1 − β2ᵗ)). Outputs: `params_out`, `m_out`, `v_out`, `grad_norm` [1] and `found_inf` bool [1];
 * on an overflow the outputs equal the inputs. Frozen ranges of `params` pass through unchanged.
 */
export function buildDeviceAdamWGraph(
  layout: readonly FlatParam[],
  options: AdamWOptions = {},
): Graph {
  const g = new Graph();
  const f = (x: number) => g.constant([x], "float32");
  const b1 = options.beta1 ?? 0.9, b2 = options.beta2 ?? 0.95, eps = options.eps ?? 1e-8;
  const size = flatSize(layout.filter((p) => !p.frozen));
  const all = g.input("params", "float32", [flatSize(layout)]);
  const [grads, m, v] = ["grads", "m", "v"].map((n) => g.input(n, "float32", [size]));
  const decay = g.input("decay", "bool", [size]);
  const [invScale, maxNorm, keep, negStep, bias2Sqrt] = [
    "inv_scale",
    "max_norm",
    "keep",
    "neg_step",
    "bias2_sqrt",
  ].map((n) => g.input(n, "float32", [1]));

  const runs = flatRuns(layout);
  const params = pieces(g, all, runs.filter((r) => !r.frozen));
  const unscaled = g.mul(grads, invScale);
  const norm = g.sqrt(g.reduceSum(g.mul(unscaled, unscaled), [0]));
  // inf − inf and NaN − NaN are NaN, the only values unequal to 0 here. Named in place: the
  // WebGPU provider has no bool Identity to rename it with.
  const foundInf = g.node(
    "Not",
    [g.equal(g.sub(norm, norm), f(0))],
    [{ dtype: "bool", shape: [1] }],
    {},
    "",
    "found_inf",
  )[0];
  // torch.nn.utils.clip_grad_norm_'s factor, applied only when the norm exceeds the limit.
  const clip = g.min(f(1), g.div(maxNorm, g.add(norm, f(1e-6))));
  const grad = g.mul(unscaled, clip);
  const decayed = g.where(decay, g.mul(params, keep), params);
  const mNew = g.add(g.mul(m, f(b1)), g.mul(f(1 - b1), grad));
  const vNew = g.add(g.mul(v, f(b2)), g.mul(g.mul(f(1 - b2), grad), grad));
  const denom = g.add(g.div(g.sqrt(vNew), bias2Sqrt), f(eps));
  const pNew = g.add(decayed, g.div(g.mul(negStep, mNew), denom));
  const updated = g.where(foundInf, params, pNew);
  g.output(params === all ? updated : withFrozen(g, all, updated, runs), "params_out");
  g.output(g.where(foundInf, m, mNew), "m_out");
  g.output(g.where(foundInf, v, vNew), "v_out");
  g.output(norm, "grad_norm");
  g.output(foundInf);
  return g;
}

/** Elements of `params` laid end to end. */
function flatSize(params: readonly FlatParam[]): number {
  return params.reduce((n, p) => n + numel(p.shape), 0);
}

/** A stretch of the flat weights whose parameters are all frozen or all trainable. */
interface Run {
  start: number;
  end: number;
  frozen: boolean;
}

/** The flat weights of `layout` as alternating frozen and trainable runs. */
function flatRuns(layout: readonly FlatParam[]): Run[] {
  const runs: Run[] = [];
  let at = 0;
  for (const p of layout) {
    const end = at + numel(p.shape), frozen = p.frozen ?? false;
    const last = runs.at(-1);
    if (last && last.frozen === frozen) last.end = end;
    else runs.push({ start: at, end, frozen });
    at = end;
  }
  return runs;
}

/** The `runs` of `flat`, concatenated (`flat` itself when one run covers it). */
function pieces(g: Graph, flat: Value, runs: readonly Run[]): Value {
  if (runs.length === 1 && runs[0].start === 0 && runs[0].end === flat.shape[0]) return flat;
  return g.concat(runs.map((r) => g.slice(flat, [r.start], [r.end], [0])), 0);
}

/** The whole flat weights: frozen runs from `all`, trainable ones from `updated` in turn. */
function withFrozen(g: Graph, all: Value, updated: Value, runs: readonly Run[]): Value {
  let at = 0;
  return g.concat(
    runs.map((r) => {
      if (r.frozen) return g.slice(all, [r.start], [r.end], [0]);
      const n = r.end - r.start;
      return g.slice(updated, [at], [at += n], [0]);
    }),
    0,
  );
}
