/**
 * The train-step and eval graphs, in two layouts.
 *
 * Host layout (CPU and CUDA): every parameter is its own fp32 input, ids and targets are int64,
 * the loss is onnxruntime's SoftmaxCrossEntropyLoss, and each trainable parameter's gradient is an
 * output.
 *
 * Device layout (`webgpu`, weights kept in GPU memory between runs): the weights are one flat fp32
 * input `params` in {@linkcode paramSpecs} order, sliced inside the graph; ids and targets are
 * int32; the gradients of the micro-batch's trainable parameters are added to a flat `grads_in`
 * and leave as one flat `grads`, and the loss is added to `loss_in` (so a whole optimizer step
 * reads nothing back).
 * Everything in it has a WebGPU kernel: the cross-entropy is spelled out in elementwise ops with its
 * gradient in closed form (the provider has no LogSoftmax, so SoftmaxCrossEntropyLoss would run on
 * the CPU), and the embedding gradient is a one-hot MatMul instead of ScatterND, whose float
 * reduction on WebGPU adds with atomics in no fixed order (results vary from run to run) and takes
 * fp32 only.
 *
 * Low precision lives inside both: weights are cast to the compute dtype where they are used, and
 * the logits go back to fp32 for the loss. Frozen parameters (fine-tuning) are inputs in both
 * layouts, but the backward pass computes no gradient for them.
 */
import { type DType, gradients, Graph, numel, type Value, type VjpRule } from "../graph/mod.ts";
import { InputError } from "../errors.ts";
import type { GptConfig } from "./config.ts";
import { gptForward } from "./gpt.ts";
import { paramSpecs } from "./params.ts";

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
   * Parameters held fixed (fine-tuning): still graph inputs, but the graph computes no gradient
   * for them, and the step has no slot for one.
   */
  frozen?: readonly string[];
  /** The device layout (see the module doc); the host layout when absent. */
  onDevice?: boolean;
  /**
   * The dtype of the gradient outputs (host layout): fp32 (default), or fp16 for an all-reduce
   * that carries fp16 (a Cast at each output: half the bytes out of each run; the host still sums
   * the micro-batches in fp32 and rounds the sum for the ring). The device layout accumulates its
   * flat gradients in fp32 and refuses fp16.
   */
  gradients?: "fp32" | "fp16";
}

/**
 * Builds the train-step graph. Host layout: inputs `ids`, `targets`, `loss_scale` and every
 * parameter; outputs `loss_sum` and `grad:NAME` per parameter. Device layout: inputs `ids`,
 * `targets`, `loss_scale`, `params`, `grads_in`, `loss_in`; outputs `grads` and `loss`.
 */
export function buildTrainStepGraph(cfg: GptConfig, shape: TrainStepShape): Graph {
  return lossGraph(cfg, shape, true);
}

/** The same loss without gradients or dropout, for evaluation; output `loss_sum`. */
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
  const index = shape.onDevice ? "int32" : "int64";
  const ids = g.input("ids", index, [b, t]);
  const targets = g.input("targets", index, [b, t]);
  const lossScale = training ? g.input("loss_scale", "float32", []) : undefined;
  const params = shape.onDevice ? flatParams(g, cfg) : paramInputs(g, cfg);
  const cast = new Map<string, Value>();
  const weight = (name: string) => {
    let v = cast.get(name);
    if (!v) cast.set(name, v = g.cast(params.get(name)!, dtype));
    return v;
  };
  const { logits } = gptForward(g, cfg, weight, { ids, training }, dtype);
  const frozen = new Set(shape.frozen);
  // By parameter name: in the device layout a parameter's value is a view of the flat input.
  const trainable = [...params].filter(([name]) => !frozen.has(name));
  const scores = g.cast(g.reshape(logits, [b * t, cfg.vocabSize]), "float32");
  if (!shape.onDevice) {
    const { loss } = g.softmaxCrossEntropyLoss(scores, g.reshape(targets, [b * t]), "sum");
    g.output(loss, "loss_sum");
    if (lossScale) {
      const half = shape.gradients === "fp16";
      gradients(g, g.mul(loss, lossScale), trainable.map(([, v]) => v)).forEach((grad, i) =>
        g.output(half ? g.cast(grad, "float16") : grad, `grad:${trainable[i][0]}`)
      );
    }
    return g;
  }
  if (lossScale && shape.gradients === "fp16") {
    throw new Error(
      'The device layout accumulates its gradients in fp32: gradients "fp16" is for the host layout only',
    );
  }
  const { loss, grad } = crossEntropySum(g, scores, g.reshape(targets, [b * t]));
  if (!lossScale) {
    g.output(loss, "loss_sum");
    return g;
  }
  g.output(g.add(g.input("loss_in", "float32", [1]), g.reshape(loss, [1])), "loss");
  const grads = gradients(g, scores, trainable.map(([, v]) => v), {
    seed: g.mul(grad, lossScale),
    rules: new Map([["Gather", embeddingGradientByMatMul]]),
  });
  const size = trainable.reduce((n, [, v]) => n + numel(v.shape), 0);
  const flat = g.concat(grads.map((gr) => g.reshape(gr, [-1])), 0);
  g.output(g.add(g.input("grads_in", "float32", [size]), flat), "grads");
  return g;
}

/** One fp32 input per parameter, named as in the checkpoint. */
function paramInputs(g: Graph, cfg: GptConfig): Map<string, Value> {
  return new Map(paramSpecs(cfg).map((s) => [s.name, g.input(s.name, "float32", s.shape)]));
}

/** The flat `params` input, sliced into one view per parameter. */
function flatParams(g: Graph, cfg: GptConfig): Map<string, Value> {
  const specs = paramSpecs(cfg);
  const size = specs.reduce((n, s) => n + numel(s.shape), 0);
  const flat = g.input("params", "float32", [size]);
  const views = new Map<string, Value>();
  let at = 0;
  for (const s of specs) {
    const n = numel(s.shape);
    views.set(s.name, g.reshape(g.slice(flat, [at], [at + n], [0]), s.shape));
    at += n;
  }
  return views;
}

/**
 * Summed cross-entropy of `scores` [N, V] (fp32) against int32 `targets` [N], and its gradient
 * softmax(scores) − onehot(targets), from ops with WebGPU kernels. The max shift keeps exp finite;
 * the gradient is built here rather than by autodiff, which would need a rule for ReduceMax.
 */
function crossEntropySum(g: Graph, scores: Value, targets: Value): { loss: Value; grad: Value } {
  const [n, v] = scores.shape;
  const shifted = g.sub(scores, g.reduceMax(scores, [1]));
  const exps = g.exp(shifted);
  const total = g.reduceSum(exps, [1]);
  // Float ids are exact up to 2^24, far past any vocabulary.
  const classes = g.constant(range(v), "float32", [1, v]);
  const onehot = g.cast(g.equal(g.reshape(g.cast(targets, "float32"), [n, 1]), classes), "float32");
  const picked = g.reduceSum(g.mul(shifted, onehot), [1]);
  const loss = g.reduceSum(g.sub(g.log(total), picked), [0, 1], false);
  return { loss, grad: g.sub(g.div(exps, total), onehot) };
}

/** One-hot blocks stay under this many elements, so their memory stays bounded at any vocabulary. */
const ONE_HOT_BLOCK = 1 << 26;

/**
 * The embedding lookup's gradient as onehot(ids)ᵀ · gy, in fp32, in blocks of tokens: the same sum
 * as the registry's ScatterND rule, but added in a fixed order on every run and device.
 */
const embeddingGradientByMatMul: VjpRule = (f, { inputs: [data, indices], attrs }, [gy]) => {
  if (!("i" in attrs.axis) || attrs.axis.i !== 0) {
    throw new Error(`gradients: Gather is differentiable along axis 0 only`);
  }
  const [v, c] = data!.shape, n = numel(indices!.shape);
  const rows = f.constant(range(v), "float32", [v, 1]);
  const ids = f.reshape(f.cast(indices!, "float32"), [1, n]);
  const g32 = f.cast(f.reshape(gy!, [n, c]), "float32");
  const block = Math.max(1, Math.floor(ONE_HOT_BLOCK / v));
  let sum: Value | undefined;
  for (let at = 0; at < n; at += block) {
    const end = Math.min(n, at + block);
    const part = end - at === n ? ids : f.slice(ids, [at], [end], [1]);
    const rowsOfPart = end - at === n ? g32 : f.slice(g32, [at], [end], [0]);
    const onehot = f.cast(f.equal(rows, part), "float32"); // [v, block]
    const term = f.matMul(onehot, rowsOfPart);
    sum = sum ? f.add(sum, term) : term;
  }
  return [f.cast(sum!, data!.dtype), null];
};

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
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
