/**
 * The train step, compiled once: fp32 master weights and a micro-batch in; the summed
 * cross-entropy and fp32 gradients out, or fp16 ones for an fp16 all-reduce (graphs in
 * train_graph.ts).
 *
 * The loss is a sum scaled by a `loss_scale` input, so the caller can normalise by the token count
 * of the whole optimizer step (correct gradient accumulation) and apply the fp16 loss scale in one
 * multiply.
 *
 * {@linkcode TrainStep} and {@linkcode EvalStep} take the weights from the host (one flat
 * Float32Array) and return the gradients to it. {@linkcode DeviceTrainStep} and
 * {@linkcode DeviceEvalStep} (`webgpu`) take weights that stay in GPU memory and leave the
 * accumulated gradients and loss there.
 */
import { Graph, numel } from "../graph/mod.ts";
import { InputError } from "../errors.ts";
import { createSession, describeDevice, type Device, ort, resolveDevice } from "../runtime.ts";
import type { GptConfig } from "./config.ts";
import { drawDropoutMasks, DROPOUT_INPUT } from "./dropout.ts";
import { type ParamSpec, paramSpecs } from "./params.ts";
import {
  buildEvalGraph,
  buildTrainStepGraph,
  float32Ops,
  type Precision,
  type TrainStepShape,
} from "./train_graph.ts";

interface Compiled {
  session: ort.InferenceSession;
  shape: Required<TrainStepShape>;
  float32Ops: Record<string, number>;
  /** The graph's dropout keep-mask inputs, in site order. */
  dropoutSites: { name: string; shape: readonly number[] }[];
}

/** Where a step runs. */
export type StepOptions = { device?: Device | string; threads?: number };

/**
 * A compiled loss graph bound to a session. Parameters (and gradients) are flat fp32 buffers in
 * {@linkcode paramSpecs} order, so the optimizer and the all-reduce see one array each.
 */
class CompiledLoss {
  readonly specs: ParamSpec[];
  /** Offset of each parameter in the flat buffers. */
  readonly offsets: number[] = [];
  readonly size: number;
  /** Ops of the compiled graph that compute in float32 (see {@linkcode float32Ops}). */
  readonly float32Ops: Record<string, number>;
  protected readonly session: ort.InferenceSession;
  protected readonly shape: Required<TrainStepShape>;
  readonly #dropout: number;
  readonly #masks: { name: string; shape: readonly number[]; data: Uint8Array }[];

  protected constructor(compiled: Compiled, cfg: GptConfig) {
    this.session = compiled.session;
    this.shape = compiled.shape;
    this.float32Ops = compiled.float32Ops;
    this.specs = paramSpecs(cfg);
    let at = 0;
    for (const s of this.specs) {
      this.offsets.push(at);
      at += numel(s.shape);
    }
    this.size = at;
    this.#dropout = cfg.dropout;
    this.#masks = compiled.dropoutSites.map(({ name, shape }) => ({
      name,
      shape,
      data: new Uint8Array(numel(shape)),
    }));
  }

  protected static async compileSession(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions,
    build: (cfg: GptConfig, shape: TrainStepShape) => Graph,
    outputsOnDevice: string[] = [],
  ): Promise<Compiled> {
    const device = resolveDevice(options.device);
    await assertPrecision(device, shape.precision);
    const full = {
      ...shape,
      sequenceLength: shape.sequenceLength ?? cfg.contextLength,
      frozen: shape.frozen ?? [],
      onDevice: shape.onDevice ?? false,
      gradients: shape.gradients ?? "fp32",
    };
    const graph = build(cfg, full);
    const session = await createSession(graph.toModel(), {
      device,
      threads: options.threads,
      outputsOnDevice,
    });
    const dropoutSites = graph.inputs.filter((v) => v.name.startsWith(DROPOUT_INPUT));
    return { session, shape: full, float32Ops: float32Ops(graph), dropoutSites };
  }

  /** Tokens in one micro-batch. */
  get tokens(): number {
    return this.shape.microBatch * this.shape.sequenceLength;
  }

  /** The parameter named `name` as a view into the flat buffer. */
  view(flat: Float32Array, name: string): Float32Array {
    const i = this.specs.findIndex((s) => s.name === name);
    if (i < 0) throw new RangeError(`No parameter named "${name}"`);
    const n = numel(this.specs[i].shape);
    return flat.subarray(this.offsets[i], this.offsets[i] + n);
  }

  /** The micro-batch's ids and targets, in the index type of the graph's layout. */
  protected batchFeeds(ids: BigInt64Array, targets: BigInt64Array): Record<string, ort.Tensor> {
    const { microBatch: b, sequenceLength: t } = this.shape;
    if (!this.shape.onDevice) {
      return {
        ids: new ort.Tensor("int64", ids, [b, t]),
        targets: new ort.Tensor("int64", targets, [b, t]),
      };
    }
    return {
      ids: new ort.Tensor("int32", Int32Array.from(ids, Number), [b, t]),
      targets: new ort.Tensor("int32", Int32Array.from(targets, Number), [b, t]),
    };
  }

  /**
   * The dropout keep-masks of the micro-batch: with dropout, `rows.samples` names the global sample
   * index of each row and `rows.seed` the run's seed, and the masks are drawn from them (see
   * {@linkcode drawDropoutMasks}).
   */
  protected maskFeeds(rows?: { seed: number; samples: readonly number[] }) {
    const feeds: Record<string, ort.Tensor> = {};
    if (this.#masks.length === 0) return feeds;
    if (rows?.samples.length !== this.shape.microBatch) {
      throw new RangeError(
        `The train step: dropout ${this.#dropout} needs the ${this.shape.microBatch} sample indices of the micro-batch`,
      );
    }
    drawDropoutMasks(this.#masks.map((m) => m.data), this.#dropout, rows.seed, rows.samples);
    for (const m of this.#masks) feeds[m.name] = new ort.Tensor("bool", m.data, m.shape);
    return feeds;
  }

  /** Host layout: every parameter fed as a view of the flat buffer (no copy). */
  protected paramFeeds(params: Float32Array): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    this.specs.forEach((s, i) => {
      const n = numel(s.shape);
      feeds[s.name] = new ort.Tensor(
        "float32",
        params.subarray(this.offsets[i], this.offsets[i] + n),
        s.shape,
      );
    });
    return feeds;
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Refuses a precision the device cannot compute in, naming the device and the flag. */
async function assertPrecision(device: Device, precision: Precision): Promise<void> {
  if (precision === "bf16" && device.kind !== "cuda") {
    const why = device.kind === "cpu"
      ? "onnxruntime's CPU provider has no bfloat16 kernels (not even Cast)"
      : "WGSL has no bfloat16 type, so onnxruntime's WebGPU provider has no bfloat16 kernels";
    throw new InputError(
      "--precision",
      `bf16 is not supported on ${
        describeDevice(device)
      }: ${why}; use fp16 or fp32 there (bf16 runs on --device cuda)`,
    );
  }
  if (precision === "fp16" && device.kind === "webgpu" && !(await webgpuHasFp16())) {
    throw new InputError(
      "--precision",
      "fp16 is not supported on webgpu by this GPU adapter: it lacks the shader-f16 feature, so the " +
        "WebGPU provider has no float16 kernels; use --precision fp32",
    );
  }
}

let fp16Probe: Promise<boolean> | undefined;

/** Whether the webgpu adapter computes in float16 (has shader-f16): one tiny fp16 MatMul. */
function webgpuHasFp16(): Promise<boolean> {
  return fp16Probe ??= (async () => {
    const g = new Graph();
    const x = g.input("x", "float16", [2, 2]);
    g.output(g.matMul(x, x), "y");
    try {
      await (await createSession(g.toModel(), { device: { kind: "webgpu" } })).release();
      return true;
    } catch (err) {
      if (/fallback to CPU EP/.test((err as Error).message)) return false;
      throw err;
    }
  })();
}

/**
 * A step that computes gradients. They are flat too, over the trainable parameters only (all of
 * them unless some are frozen), in {@linkcode paramSpecs} order: frozen parameters are graph inputs
 * without a gradient output, so the optimizer and the all-reduce never see them.
 */
class GradientStep extends CompiledLoss {
  /** The parameters that get a gradient. */
  readonly trainable: ParamSpec[];
  /** Offset of each trainable parameter's gradient in the flat gradient buffer. */
  readonly gradOffsets: number[] = [];
  /** Elements of the flat gradient buffer. */
  readonly gradSize: number;

  protected constructor(compiled: Compiled, cfg: GptConfig) {
    super(compiled, cfg);
    const frozen = new Set(compiled.shape.frozen);
    this.trainable = this.specs.filter((s) => !frozen.has(s.name));
    let at = 0;
    for (const s of this.trainable) {
      this.gradOffsets.push(at);
      at += numel(s.shape);
    }
    this.gradSize = at;
  }

  /** The gradient of the trainable parameter `name` as a view into the flat gradient buffer. */
  gradView(flat: Float32Array, name: string): Float32Array {
    const i = this.trainable.findIndex((s) => s.name === name);
    if (i < 0) throw new RangeError(`No trainable parameter named "${name}"`);
    return flat.subarray(this.gradOffsets[i], this.gradOffsets[i] + numel(this.trainable[i].shape));
  }
}

/** The train step: loss and gradients of one micro-batch (host layout). */
export class TrainStep extends GradientStep {
  /** Compiles the step for `cfg` on `options.device`. */
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<TrainStep> {
    const host = { ...shape, onDevice: false };
    return new TrainStep(
      await CompiledLoss.compileSession(cfg, host, options, buildTrainStepGraph),
      cfg,
    );
  }

  /**
   * Runs one micro-batch and adds its gradients (fp32 or fp16 outputs alike), multiplied by
   * `lossScale`, into `grads` in fp32 (laid out as {@linkcode gradOffsets}); returns the summed
   * (unscaled) token loss. `ids` and `targets` hold microBatch × sequenceLength ids; `rows` names
   * the samples for the dropout masks.
   */
  async accumulate(
    params: Float32Array,
    ids: BigInt64Array,
    targets: BigInt64Array,
    lossScale: number,
    grads: Float32Array,
    rows?: { seed: number; samples: readonly number[] },
  ): Promise<number> {
    const out = await this.session.run({
      ...this.batchFeeds(ids, targets),
      ...this.paramFeeds(params),
      ...this.maskFeeds(rows),
      loss_scale: new ort.Tensor("float32", Float32Array.of(lossScale), []),
    });
    this.trainable.forEach((s, i) => {
      const grad = out[`grad:${s.name}`].data as Float32Array | Float16Array;
      const base = this.gradOffsets[i];
      for (let j = 0; j < grad.length; j++) grads[base + j] += grad[j];
    });
    const lossSum = Number(out.loss_sum.data[0]);
    for (const t of Object.values(out)) t.dispose();
    return lossSum;
  }
}

/** The forward-only loss of one micro-batch, for validation (host layout). */
export class EvalStep extends CompiledLoss {
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<EvalStep> {
    const host = { ...shape, onDevice: false };
    return new EvalStep(await CompiledLoss.compileSession(cfg, host, options, buildEvalGraph), cfg);
  }

  /** Summed token loss of the micro-batch. */
  async lossSum(params: Float32Array, ids: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const out = await this.session.run({
      ...this.batchFeeds(ids, targets),
      ...this.paramFeeds(params),
    });
    return Number(out.loss_sum.data[0]);
  }
}

/** What one device micro-batch leaves in GPU memory. */
export interface DeviceAccumulation {
  /** Flat fp32 gradients of the trainable parameters so far, each times its `lossScale`. */
  grads: ort.Tensor;
  /** Summed token loss so far, fp32 [1]. */
  loss: ort.Tensor;
}

/** The train step on weights kept in GPU memory (device layout, `webgpu`). */
export class DeviceTrainStep extends GradientStep {
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<DeviceTrainStep> {
    const device = { ...shape, onDevice: true };
    const compiled = await CompiledLoss.compileSession(
      cfg,
      device,
      options,
      buildTrainStepGraph,
      ["grads", "loss"],
    );
    return new DeviceTrainStep(compiled, cfg);
  }

  /**
   * Runs one micro-batch on the device weights `params`: returns `into` plus this micro-batch's
   * gradients (times `lossScale`) and loss, all still in GPU memory. Nothing is read back, so
   * micro-batches queue on the GPU without waiting for each other. The caller disposes `into`
   * when it no longer needs it.
   */
  async accumulate(
    params: ort.Tensor,
    into: DeviceAccumulation,
    ids: BigInt64Array,
    targets: BigInt64Array,
    lossScale: number,
    rows?: { seed: number; samples: readonly number[] },
  ): Promise<DeviceAccumulation> {
    const out = await this.session.run({
      ...this.batchFeeds(ids, targets),
      ...this.maskFeeds(rows),
      params,
      grads_in: into.grads,
      loss_in: into.loss,
      loss_scale: new ort.Tensor("float32", Float32Array.of(lossScale), []),
    });
    return { grads: out.grads, loss: out.loss };
  }
}

/** The forward-only loss on weights kept in GPU memory (device layout, `webgpu`). */
export class DeviceEvalStep extends CompiledLoss {
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<DeviceEvalStep> {
    const device = { ...shape, onDevice: true };
    return new DeviceEvalStep(
      await CompiledLoss.compileSession(cfg, device, options, buildEvalGraph),
      cfg,
    );
  }

  /** Summed token loss of the micro-batch. */
  async lossSum(params: ort.Tensor, ids: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const out = await this.session.run({ ...this.batchFeeds(ids, targets), params });
    return Number(out.loss_sum.data[0]);
  }
}
