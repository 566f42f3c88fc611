/**
 * The training loop's one step, shared by the single-process trainer and the distributed worker:
 * k micro-batches accumulate gradients normalised by the tokens of the whole optimizer step (across
 * every worker), an optional all-reduce sums them across workers, then the fp16 overflow check,
 * clipping, the learning-rate schedule and AdamW act on flat fp32 buffers.
 *
 * @example
 * ```ts
 * const trainer = await Trainer.create({ model, train, trainTokens, tokenizerJson });
 * while (trainer.step < train.steps) console.log(await trainer.trainStep());
 * ```
 */
import type { CheckpointContents, TrainingStatePart } from "../checkpoint/mod.ts";
import { InputError } from "../errors.ts";
import { sha256Hex } from "../sha256.ts";
import { EvalStep, type GptConfig, initParams, TrainStep } from "../gpt/mod.ts";
import { AdamW, clipGradNorm, hasInfOrNaN, LossScaler, lrAt, Rng } from "../optim/mod.ts";
import type { Device } from "../runtime.ts";
import { type TokenArray, WindowSampler } from "./batches.ts";
import type { TrainConfig } from "./config.ts";

/**
 * Sums a buffer across all workers in place (the ring all-reduce; absent when training alone).
 * `bucket` tells apart the buffers one step reduces: with an fp16 gradient wire, the gradients
 * (bucket 0, fp16) and the loss (bucket 1, fp32).
 */
export type AllReduce = (buffer: Float32Array | Float16Array, bucket: number) => Promise<void>;

/** What a trainer needs to start. */
export interface TrainerInit {
  model: GptConfig;
  train: TrainConfig;
  trainTokens: TokenArray;
  valTokens?: TokenArray;
  tokenizerJson: string;
  device?: Device | string;
  threads?: number;
  /** This worker's place among `worldSize` data-parallel workers. */
  rank?: number;
  worldSize?: number;
  /**
   * Allocates the gradient buffer the all-reduce sums (default: an ordinary Float32Array); the
   * distributed worker passes one whose memory ring neighbours on its host read in place.
   */
  gradientBuffer?: (length: number) => Float32Array;
  /**
   * `fp16`: the all-reduce carries the gradients as fp16, which the train-step graph casts them
   * to (half the bytes on the wire). Micro-batches still accumulate in fp32, and the loss is
   * scaled dynamically as for fp16 compute, so small gradients do not underflow. Default `fp32`.
   */
  gradientWire?: "fp32" | "fp16";
  /** Allocates the fp16 gradient buffer of an fp16 wire (default: an ordinary Float16Array). */
  halfGradientBuffer?: (length: number) => Float16Array;
}

/** One optimizer step's record: a line of metrics.jsonl. */
export interface StepMetrics extends Record<string, unknown> {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  loss_scale: number;
  tokens_per_s: number;
  /** True when fp16 gradients overflowed and the update was skipped. */
  skipped: boolean;
}

export class Trainer {
  readonly model: GptConfig;
  readonly train: TrainConfig;
  /** Flat fp32 master weights, in paramSpecs order. */
  readonly params: Float32Array;
  /** Optimizer steps taken (skipped fp16 steps count: the data was consumed). */
  step = 0;
  /** Global samples consumed by all workers so far. */
  dataPosition = 0;
  rank: number;
  worldSize: number;
  readonly #trainStep: TrainStep;
  readonly #evalStep: EvalStep | undefined;
  readonly #sampler: WindowSampler;
  readonly #valSampler: WindowSampler | undefined;
  readonly #optimizer: AdamW;
  readonly #scaler: LossScaler | undefined;
  readonly #tokenizerJson: string;
  /** Gradients, then one extra slot carrying the loss sum through the same all-reduce. */
  readonly #gradsAndLoss: Float32Array;
  /** With an fp16 gradient wire, what the all-reduce sums. */
  readonly #halfGrads: Float16Array | undefined;
  readonly #ids: BigInt64Array;
  readonly #targets: BigInt64Array;

  private constructor(init: TrainerInit, trainStep: TrainStep, evalStep: EvalStep | undefined) {
    this.model = init.model;
    this.train = init.train;
    this.rank = init.rank ?? 0;
    this.worldSize = init.worldSize ?? 1;
    this.#trainStep = trainStep;
    this.#evalStep = evalStep;
    this.#tokenizerJson = init.tokenizerJson;
    const t = init.train.sequenceLength ?? init.model.contextLength;
    this.#sampler = new WindowSampler(init.trainTokens, t, init.train.seed, "training split");
    this.#valSampler = init.valTokens && init.valTokens.length > t
      ? new WindowSampler(init.valTokens, t, init.train.seed, "validation split")
      : undefined;

    const rng = new Rng(init.train.seed);
    const weights = initParams(init.model, () => rng.normal());
    this.params = new Float32Array(trainStep.size);
    trainStep.specs.forEach((s, i) => this.params.set(weights.get(s.name)!, trainStep.offsets[i]));
    this.#optimizer = new AdamW(
      trainStep.specs.map((s) => ({
        name: s.name,
        data: trainStep.view(this.params, s.name),
        decay: s.decay,
      })),
      { beta1: init.train.beta1, beta2: init.train.beta2, weightDecay: init.train.weightDecay },
    );
    const halfWire = init.gradientWire === "fp16";
    this.#scaler = init.train.precision === "fp16" || halfWire ? new LossScaler() : undefined;
    this.#gradsAndLoss = (init.gradientBuffer ?? ((n) => new Float32Array(n)))(trainStep.size + 1);
    this.#halfGrads = halfWire
      ? (init.halfGradientBuffer ?? ((n) => new Float16Array(n)))(trainStep.size)
      : undefined;
    this.#ids = new BigInt64Array(trainStep.tokens);
    this.#targets = new BigInt64Array(trainStep.tokens);
  }

  /** Compiles the train (and, with validation data, eval) step and initialises the weights. */
  static async create(init: TrainerInit): Promise<Trainer> {
    const shape = {
      microBatch: init.train.microBatch,
      sequenceLength: init.train.sequenceLength,
      precision: init.train.precision,
      gradients: init.gradientWire,
    };
    const options = { device: init.device, threads: init.threads };
    const trainStep = await TrainStep.create(init.model, shape, options);
    const evalStep = init.valTokens ? await EvalStep.create(init.model, shape, options) : undefined;
    return new Trainer(init, trainStep, evalStep);
  }

  /** Ops of the train step that compute in float32 (the loss, or ops lacking low-precision kernels). */
  get float32Ops(): Record<string, number> {
    return this.#trainStep.float32Ops;
  }

  /** The last step's gradient: summed across workers, unscaled and clipped (a view, reused). */
  get lastGradient(): Float32Array {
    return this.#gradsAndLoss.subarray(0, this.#trainStep.size);
  }

  /** The last step's mean token loss over all workers (valid once its all-reduce is done). */
  get lastLoss(): number {
    return this.#gradsAndLoss[this.#trainStep.size] / this.tokensPerStep;
  }

  /** Samples one optimizer step consumes across all workers. */
  get samplesPerStep(): number {
    return this.train.microBatch * this.train.gradAccum * this.worldSize;
  }

  /** Tokens one optimizer step trains on across all workers. */
  get tokensPerStep(): number {
    return this.samplesPerStep * this.#trainStep.tokens / this.train.microBatch;
  }

  /** The learning rate of the next step. */
  get lr(): number {
    const { lr, minLr, warmupSteps, steps } = this.train;
    // A run shorter than the default warmup warms up over all of it.
    const warmup = Math.min(warmupSteps, steps);
    return lrAt(this.step, { lr, minLr: minLr ?? lr / 10, warmupSteps: warmup, totalSteps: steps });
  }

  /** The global sample indices this worker trains on in the next step. */
  stepSamples(): number[] {
    const perWorker = this.train.microBatch * this.train.gradAccum;
    const first = this.dataPosition + this.rank * perWorker;
    return Array.from({ length: perWorker }, (_, i) => first + i);
  }

  /**
   * One optimizer step. With `allReduce`, gradients (and the loss) are summed across workers
   * before the update, so every worker applies the same update. `injectOverflow` poisons the
   * gradients with an inf, for testing fp16 loss scaling.
   */
  async trainStep(allReduce?: AllReduce, injectOverflow = false): Promise<StepMetrics> {
    const started = performance.now();
    await this.computeGradients(allReduce, injectOverflow);
    return this.applyUpdate(started);
  }

  /**
   * The first half of a step: this worker's micro-batches, then the all-reduce. Nothing of the
   * trainer's state changes, so a distributed step aborted here (a peer died) is simply run again.
   */
  async computeGradients(allReduce?: AllReduce, injectOverflow = false): Promise<void> {
    const { microBatch, gradAccum } = this.train;
    const grads = this.#gradsAndLoss;
    grads.fill(0);
    const scale = this.#scaler?.scale ?? 1;
    const samples = this.stepSamples();
    let lossSum = 0;
    for (let m = 0; m < gradAccum; m++) {
      for (let r = 0; r < microBatch; r++) {
        this.#sampler.fill(samples[m * microBatch + r], this.#ids, this.#targets, r);
      }
      lossSum += await this.#trainStep.accumulate(
        this.params,
        this.#ids,
        this.#targets,
        scale / this.tokensPerStep,
        grads.subarray(0, this.#trainStep.size),
        { seed: this.train.seed, samples: samples.slice(m * microBatch, (m + 1) * microBatch) },
      );
    }
    if (injectOverflow) grads[0] = Infinity;
    grads[this.#trainStep.size] = lossSum;
    if (!allReduce) return;
    if (!this.#halfGrads) return await allReduce(grads, 0);
    // An fp16 wire: the micro-batches' fp32 sum in fp16 (past fp16's range it becomes inf, and the
    // loss scaler skips the step), reduced, then back to fp32 for clipping and the optimizer.
    const gradient = grads.subarray(0, this.#trainStep.size);
    const half = this.#halfGrads;
    half.set(gradient);
    await allReduce(half, 0);
    await allReduce(grads.subarray(this.#trainStep.size), 1);
    for (let i = 0; i < half.length; i++) gradient[i] = half[i];
  }

  /** The second half: fp16 overflow check, clipping, AdamW; advances the step and data position. */
  applyUpdate(started = performance.now()): StepMetrics {
    const loss = this.lastLoss;
    const gradient = this.lastGradient;
    const lr = this.lr;
    let gradNorm = NaN, skipped = false;
    if (this.#scaler) {
      skipped = this.#scaler.unscale([gradient]);
      this.#scaler.update(skipped);
    } else if (hasInfOrNaN([gradient])) {
      throw new Error(
        `Step ${this.step}: the fp32 gradients hold inf or NaN (loss ${loss}); lower --lr`,
      );
    }
    if (!skipped) {
      gradNorm = clipGradNorm([gradient], this.train.gradClip > 0 ? this.train.gradClip : Infinity);
      this.#optimizer.step(
        new Map(this.#trainStep.specs.map((s) => [s.name, this.#trainStep.view(gradient, s.name)])),
        lr,
      );
    }
    this.step++;
    this.dataPosition += this.samplesPerStep;
    const seconds = (performance.now() - started) / 1000;
    return {
      step: this.step,
      loss,
      lr,
      grad_norm: gradNorm,
      loss_scale: this.#scaler?.scale ?? 1,
      tokens_per_s: this.tokensPerStep / seconds,
      skipped,
    };
  }

  /** sha256 of the weights, to check that every worker holds the same ones. */
  weightsHash(): Promise<string> {
    return sha256Hex(
      new Uint8Array(this.params.buffer, this.params.byteOffset, this.params.byteLength),
    );
  }

  /** Mean token loss over the first `evalBatches` micro-batches of the validation split. */
  async evaluate(): Promise<number | undefined> {
    if (!this.#evalStep || !this.#valSampler) return undefined;
    const { microBatch, evalBatches } = this.train;
    const batches = Math.min(
      evalBatches,
      Math.max(1, Math.floor(this.#valSampler.windows / microBatch)),
    );
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      for (let r = 0; r < microBatch; r++) {
        this.#valSampler.fill(
          (b * microBatch + r) % this.#valSampler.windows,
          this.#ids,
          this.#targets,
          r,
        );
      }
      sum += await this.#evalStep.lossSum(this.params, this.#ids, this.#targets);
    }
    return sum / (batches * this.#trainStep.tokens);
  }

  /** Everything a checkpoint stores to resume this run exactly. */
  checkpointContents(): CheckpointContents {
    const tensors = new Map(
      this.#trainStep.specs.map((
        s,
      ) => [s.name, { data: this.#trainStep.view(this.params, s.name), shape: s.shape }]),
    );
    return {
      config: this.model,
      tensors,
      tokenizerJson: this.#tokenizerJson,
      optimizer: this.#optimizer.exportState(),
      state: {
        step: this.step,
        data_position: this.dataPosition,
        seed: this.train.seed,
        loss_scale: this.#scaler?.exportState() ?? null,
        train: this.train,
      },
    };
  }

  /** Restores weights, optimizer moments, loss scale and data position from a checkpoint. */
  restore(ckpt: TrainingStatePart & { path: string }): void {
    for (const s of this.#trainStep.specs) {
      const t = ckpt.tensors.get(s.name);
      if (!t || t.data.length !== this.#trainStep.view(this.params, s.name).length) {
        throw new InputError(
          `${ckpt.path}/model.safetensors`,
          `tensor "${s.name}" is missing or has the wrong shape`,
        );
      }
      this.#trainStep.view(this.params, s.name).set(t.data);
    }
    this.#optimizer.importState(ckpt.optimizer);
    const state = ckpt.state as { step: number; data_position?: number; loss_scale?: unknown };
    this.step = state.step;
    this.dataPosition = state.data_position ?? 0;
    if (this.#scaler && state.loss_scale) {
      this.#scaler.importState(state.loss_scale as { scale: number; goodSteps: number });
    }
  }
}
