/**
 * The train step, compiled once: fp32 master weights and a micro-batch in; the summed
 * cross-entropy and one fp32 gradient per parameter out. Low precision lives inside the graph:
 * weights are cast to the compute dtype where they are used, logits go back to fp32 for the loss.
 *
 * The loss is a sum scaled by a `loss_scale` input, so the caller can normalise by the token count
 * of the whole optimizer step (correct gradient accumulation) and apply the fp16 loss scale in one
 * multiply.
 */
import { type DType, gradients, Graph, numel, type Value } from "../graph/mod.ts";
import { InputError } from "../errors.ts";
import { createSession, type Device, ort, parseDevice } from "../runtime.ts";
import type { GptConfig } from "./config.ts";
import { drawDropoutMasks, DROPOUT_INPUT } from "./dropout.ts";
import { gptForward } from "./gpt.ts";
import { type ParamSpec, paramSpecs } from "./params.ts";

export type Precision = "fp32" | "fp16" | "bf16";

/** Compute dtype of each precision. */
export const computeDtype: Readonly<Record<Precision, DType>> = {
  fp32: "float32",
  fp16: "float16",
  bf16: "bfloat16",
};

/** Shape of the compiled step. */
export interface TrainStepShape {
  /** Sequences per micro-batch. */
  microBatch: number;
  /** Tokens per sequence; defaults to the context length. */
  sequenceLength?: number;
  precision: Precision;
  /**
   * The dtype of the gradient outputs: fp32 (default), or fp16 for an all-reduce that carries
   * fp16 (a Cast at each output, so no loop outside the graph converts them).
   */
  gradients?: "fp32" | "fp16";
}

/** Builds the train-step graph: inputs `ids`, `targets`, `loss_scale` and every parameter. */
export function buildTrainStepGraph(cfg: GptConfig, shape: TrainStepShape): Graph {
  return lossGraph(cfg, shape, true);
}

/** The same loss without gradients or dropout, for evaluation. */
export function buildEvalGraph(cfg: GptConfig, shape: TrainStepShape): Graph {
  return lossGraph(cfg, shape, false);
}

function lossGraph(cfg: GptConfig, shape: TrainStepShape, training: boolean): Graph {
  const b = shape.microBatch, t = shape.sequenceLength ?? cfg.contextLength;
  if (t > cfg.contextLength) {
    throw new InputError(
      "sequenceLength",
      `${t} is longer than the context length ${cfg.contextLength}`,
    );
  }
  const dtype = computeDtype[shape.precision];
  const g = new Graph();
  const ids = g.input("ids", "int64", [b, t]);
  const targets = g.input("targets", "int64", [b, t]);
  const lossScale = training ? g.input("loss_scale", "float32", []) : undefined;
  const params = paramSpecs(cfg).map((s) => g.input(s.name, "float32", s.shape));
  const byName = new Map(params.map((p) => [p.name, p]));
  const cast = new Map<string, Value>();
  const weight = (name: string) => {
    let v = cast.get(name);
    if (!v) cast.set(name, v = g.cast(byName.get(name)!, dtype));
    return v;
  };
  const { logits } = gptForward(g, cfg, weight, { ids, training }, dtype);
  const scores = g.cast(g.reshape(logits, [b * t, cfg.vocabSize]), "float32");
  const { loss } = g.softmaxCrossEntropyLoss(scores, g.reshape(targets, [b * t]), "sum");
  g.output(loss, "loss_sum");
  if (lossScale) {
    const half = shape.gradients === "fp16";
    gradients(g, g.mul(loss, lossScale), params).forEach((grad, i) =>
      g.output(half ? g.cast(grad, "float16") : grad, `grad:${params[i].name}`)
    );
  }
  return g;
}

interface Compiled {
  session: ort.InferenceSession;
  shape: Required<TrainStepShape>;
  float32Ops: Record<string, number>;
  /** The graph's dropout keep-mask inputs, in site order. */
  dropoutSites: { name: string; shape: readonly number[] }[];
}

type StepOptions = { device?: Device | string; threads?: number };

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
  }

  protected static async compileSession(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions,
    build: (cfg: GptConfig, shape: TrainStepShape) => Graph,
  ): Promise<Compiled> {
    const device = typeof options.device === "string"
      ? parseDevice(options.device)
      : options.device ?? { kind: "cpu" };
    if (shape.precision === "bf16" && device.kind === "cpu") {
      throw new InputError(
        "--precision",
        "bf16 needs the CUDA execution provider: onnxruntime's CPU provider has no bfloat16 kernels (not even Cast); use fp16 or fp32 on CPU",
      );
    }
    const full = {
      ...shape,
      sequenceLength: shape.sequenceLength ?? cfg.contextLength,
      gradients: shape.gradients ?? "fp32",
    };
    const graph = build(cfg, full);
    const session = await createSession(graph.toModel(), { device, threads: options.threads });
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

  protected feeds(
    params: Float32Array,
    ids: BigInt64Array,
    targets: BigInt64Array,
  ): Record<string, ort.Tensor> {
    const { microBatch: b, sequenceLength: t } = this.shape;
    const feeds: Record<string, ort.Tensor> = {
      ids: new ort.Tensor("int64", ids, [b, t]),
      targets: new ort.Tensor("int64", targets, [b, t]),
    };
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

/** The train step: loss and gradients of one micro-batch. */
export class TrainStep extends CompiledLoss {
  readonly #dropout: number;
  readonly #masks: { name: string; shape: readonly number[]; data: Uint8Array }[];

  private constructor(compiled: Compiled, cfg: GptConfig) {
    super(compiled, cfg);
    this.#dropout = cfg.dropout;
    this.#masks = compiled.dropoutSites.map(({ name, shape }) => ({
      name,
      shape,
      data: new Uint8Array(numel(shape)),
    }));
  }

  /** Compiles the step for `cfg` on `options.device`. */
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<TrainStep> {
    return new TrainStep(
      await CompiledLoss.compileSession(cfg, shape, options, buildTrainStepGraph),
      cfg,
    );
  }

  /**
   * Runs one micro-batch and adds its gradients (fp32 or fp16 outputs alike), multiplied by
   * `lossScale`, into `grads` in fp32; returns the summed (unscaled) token loss. `ids` and
   * `targets` hold microBatch × sequenceLength ids.
   * With dropout, `samples` names the global sample index of each row and `seed` the run's seed:
   * the masks are drawn from them (see {@linkcode drawDropoutMasks}).
   */
  async accumulate(
    params: Float32Array,
    ids: BigInt64Array,
    targets: BigInt64Array,
    lossScale: number,
    grads: Float32Array,
    rows?: { seed: number; samples: readonly number[] },
  ): Promise<number> {
    const feeds = this.feeds(params, ids, targets);
    feeds.loss_scale = new ort.Tensor("float32", Float32Array.of(lossScale), []);
    if (this.#masks.length > 0) {
      if (rows?.samples.length !== this.shape.microBatch) {
        throw new RangeError(
          `TrainStep.accumulate: dropout ${this.#dropout} needs the ${this.shape.microBatch} sample indices of the micro-batch`,
        );
      }
      drawDropoutMasks(this.#masks.map((m) => m.data), this.#dropout, rows.seed, rows.samples);
      for (const m of this.#masks) feeds[m.name] = new ort.Tensor("bool", m.data, m.shape);
    }
    const out = await this.session.run(feeds);
    this.specs.forEach((s, i) => {
      const grad = out[`grad:${s.name}`].data as Float32Array | Float16Array;
      const base = this.offsets[i];
      for (let j = 0; j < grad.length; j++) grads[base + j] += grad[j];
    });
    const lossSum = Number(out.loss_sum.data[0]);
    for (const t of Object.values(out)) t.dispose();
    return lossSum;
  }
}

/** The forward-only loss of one micro-batch, for validation. */
export class EvalStep extends CompiledLoss {
  static async create(
    cfg: GptConfig,
    shape: TrainStepShape,
    options: StepOptions = {},
  ): Promise<EvalStep> {
    return new EvalStep(
      await CompiledLoss.compileSession(cfg, shape, options, buildEvalGraph),
      cfg,
    );
  }

  /** Summed token loss of the micro-batch. */
  async lossSum(params: Float32Array, ids: BigInt64Array, targets: BigInt64Array): Promise<number> {
    const out = await this.session.run(this.feeds(params, ids, targets));
    return Number(out.loss_sum.data[0]);
  }
}

/**
 * The ops of a low-precision graph whose result is float32 (counted by op type; casts and output
 * renames left out): by design the loss and its gradient, or an op the backend lacks
 * low-precision kernels for. The trainer prints it so a user sees where fp16 is not fp16.
 */
export function float32Ops(g: Graph): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of g.nodes) {
    if (n.opType === "Cast" || n.opType === "Identity" || n.outputs[0].dtype !== "float32") {
      continue;
    }
    counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  }
  return counts;
}
