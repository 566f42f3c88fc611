/**
 * The training loop's one step, shared by the single-process trainer and the distributed worker:
 * k micro-batches accumulate gradients normalised by the tokens of the whole optimizer step (across
 * every worker), an optional all-reduce sums them across workers, then the fp16 overflow check,
 * clipping, the learning-rate schedule and AdamW act on flat fp32 buffers.
 *
 * On `webgpu` the weights stay in GPU memory (device_training.ts): the micro-batches accumulate
 * there, and without an all-reduce the update runs there too (DeviceAdamW), so a step reads back
 * only its loss and two scalars. With an all-reduce the accumulated gradients come down once per
 * step and every rank, whatever its device, applies the same TypeScript AdamW, so mixed rings stay
 * bit-identical (docs/gpu.md); the new weights go back up before the next step.
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
import {
  DeviceEvalStep,
  DeviceTrainStep,
  EvalStep,
  type GptConfig,
  initParams,
  TrainStep,
} from "../gpt/mod.ts";
import { numel } from "../graph/mod.ts";
import { DeviceMemory } from "../device_memory.ts";
import { AdamW, clipGradNorm, hasInfOrNaN, LossScaler, lrAt, Rng } from "../optim/mod.ts";
import { type Device, resolveDevice } from "../runtime.ts";
import { type TokenArray, WindowSampler } from "./batches.ts";
import type { TrainConfig } from "./config.ts";
import { DeviceTraining } from "./device_training.ts";
import { frozenParams } from "./freeze.ts";

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
  /**
   * Starting weights by checkpoint name (fine-tuning a pretrained model), in place of the seeded
   * initialisation; every parameter of `model` must be there.
   */
  initialWeights?: ReadonlyMap<string, { data: Float32Array }>;
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
   * to (half the bytes on the wire; on webgpu the fp32 sum comes down from GPU memory and is
   * converted on the host). Micro-batches still accumulate in fp32, and the loss is scaled
   * dynamically as for fp16 compute, so small gradients do not underflow. Default `fp32`.
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
  /** Tokens trained on so far, by all workers (counting those before a resume). */
  tokens: number;
  /** True when fp16 gradients overflowed and the update was skipped. */
  skipped: boolean;
}

export class Trainer {
  readonly model: GptConfig;
  readonly train: TrainConfig;
  /** Optimizer steps taken (skipped fp16 steps count: the data was consumed). */
  step = 0;
  /** Global samples consumed by all workers so far. */
  dataPosition = 0;
  rank: number;
  worldSize: number;
  readonly #params: Float32Array;
  readonly #trainStep: TrainStep | DeviceTrainStep;
  readonly #evalStep: EvalStep | undefined;
  #device: DeviceTraining | undefined;
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

  private constructor(
    init: TrainerInit,
    trainStep: TrainStep | DeviceTrainStep,
    evalStep: EvalStep | undefined,
  ) {
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
    const weights = init.initialWeights ??
      new Map([...initParams(init.model, () => rng.normal())].map(([k, data]) => [k, { data }]));
    this.#params = new Float32Array(trainStep.size);
    trainStep.specs.forEach((s, i) => {
      const w = weights.get(s.name);
      if (w?.data.length !== numel(s.shape)) {
        throw new InputError(s.name, "Initial weights lack this parameter or have another size");
      }
      this.#params.set(w.data, trainStep.offsets[i]);
    });
    this.#optimizer = new AdamW(
      trainStep.trainable.map((s) => ({
        name: s.name,
        data: trainStep.view(this.#params, s.name),
        decay: s.decay,
      })),
      { beta1: init.train.beta1, beta2: init.train.beta2, weightDecay: init.train.weightDecay },
    );
    const halfWire = init.gradientWire === "fp16";
    this.#scaler = init.train.precision === "fp16" || halfWire ? new LossScaler() : undefined;
    this.#gradsAndLoss = (init.gradientBuffer ?? ((n) => new Float32Array(n)))(
      trainStep.gradSize + 1,
    );
    this.#halfGrads = halfWire
      ? (init.halfGradientBuffer ?? ((n) => new Float16Array(n)))(trainStep.gradSize)
      : undefined;
    this.#ids = new BigInt64Array(trainStep.tokens);
    this.#targets = new BigInt64Array(trainStep.tokens);
  }

  /**
   * Compiles the train (and, with validation data, eval) step and initialises the weights; on
   * `webgpu` also the device update, with the weights bound for GPU memory.
   */
  static async create(init: TrainerInit): Promise<Trainer> {
    const shape = {
      microBatch: init.train.microBatch,
      sequenceLength: init.train.sequenceLength,
      precision: init.train.precision,
      frozen: frozenParams(init.model, init.train.freeze),
    };
    const device = resolveDevice(init.device);
    const options = { device, threads: init.threads };
    if (device.kind !== "webgpu") {
      const host = { ...shape, gradients: init.gradientWire };
      const trainStep = await TrainStep.create(init.model, host, options);
      const evalStep = init.valTokens
        ? await EvalStep.create(init.model, shape, options)
        : undefined;
      return new Trainer(init, trainStep, evalStep);
    }
    const steps = {
      train: await DeviceTrainStep.create(init.model, shape, options),
      eval: init.valTokens ? await DeviceEvalStep.create(init.model, shape, options) : undefined,
    };
    const trainer = new Trainer(init, steps.train, undefined);
    trainer.#device = await DeviceTraining.create(new DeviceMemory(), steps, {
      params: trainer.#params,
      optimizer: trainer.#optimizer,
    });
    return trainer;
  }

  /** Flat fp32 master weights, in paramSpecs order (on webgpu, after {@linkcode syncToHost}). */
  get params(): Float32Array {
    if (this.#device?.hostIsStale) {
      throw new Error(
        "Trainer.params: the newest weights are in GPU memory; await trainer.syncToHost() first",
      );
    }
    return this.#params;
  }

  /** Copies weights and optimizer moments from GPU memory when the device holds newer ones. */
  async syncToHost(): Promise<void> {
    await this.#device?.syncToHost();
  }

  /** Frees the sessions and, on webgpu, the device memory. */
  async release(): Promise<void> {
    if (this.#device) return await this.#device.release();
    await this.#trainStep.release();
    await this.#evalStep?.release();
  }

  /** Ops of the train step that compute in float32 (the loss, or ops lacking low-precision kernels). */
  get float32Ops(): Record<string, number> {
    return this.#trainStep.float32Ops;
  }

  /**
   * The last host-updated step's gradient of the trainable parameters: summed across workers,
   * unscaled and clipped (a view, reused). A step updated on the device leaves its gradient there.
   */
  get lastGradient(): Float32Array {
    return this.#gradsAndLoss.subarray(0, this.#trainStep.gradSize);
  }

  /** The last step's mean token loss over all workers (valid once its all-reduce is done). */
  get lastLoss(): number {
    return this.#gradsAndLoss[this.#trainStep.gradSize] / this.tokensPerStep;
  }

  /** Parameters the optimizer updates, and all of them (frozen ones included). */
  get parameterCounts(): { trainable: number; total: number } {
    return { trainable: this.#trainStep.gradSize, total: this.#trainStep.size };
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
    if (this.#device && !allReduce) return await this.#deviceStep(this.#device, injectOverflow);
    await this.computeGradients(allReduce, injectOverflow);
    return this.applyUpdate(started);
  }

  /**
   * The first half of a step: this worker's micro-batches, then the all-reduce. Nothing of the
   * trainer's state changes, so a distributed step aborted here (a peer died) is simply run again.
   * On webgpu the gradients accumulate in GPU memory and come down once, for the all-reduce.
   */
  async computeGradients(allReduce?: AllReduce, injectOverflow = false): Promise<void> {
    const grads = this.#gradsAndLoss;
    const size = this.#trainStep.gradSize;
    if (this.#device) {
      // applyUpdate runs on the host, so the host copies must be the newest.
      await this.#device.syncToHost();
      const acc = await this.#accumulateOnDevice(this.#device, this.#scaler?.scale ?? 1);
      grads.set(await this.#device.memory.download<"float32">(acc.grads));
      grads[size] = (await this.#device.memory.download<"float32">(acc.loss))[0];
      this.#device.discard(acc);
    } else {
      grads.fill(0);
      grads[size] = await this.#accumulateOnHost(grads.subarray(0, size));
    }
    if (injectOverflow) grads[0] = Infinity;
    if (allReduce) await this.#reduce(allReduce, grads);
  }

  /**
   * Sums the gradients and the loss across workers. An fp16 wire reduces the micro-batches' fp32
   * sum as fp16 (past fp16's range it becomes inf, and the loss scaler skips the step), the loss
   * as a second, fp32 bucket, then brings the gradients back to fp32 for clipping and the
   * optimizer. On webgpu the gradients come down from GPU memory as fp32 and take the same path.
   */
  async #reduce(allReduce: AllReduce, grads: Float32Array): Promise<void> {
    if (!this.#halfGrads) return await allReduce(grads, 0);
    const size = this.#trainStep.gradSize;
    const gradient = grads.subarray(0, size);
    const half = this.#halfGrads;
    half.set(gradient);
    await allReduce(half, 0);
    await allReduce(grads.subarray(size), 1);
    for (let i = 0; i < half.length; i++) gradient[i] = half[i];
  }

  /** This worker's micro-batches on the host: gradients added into `grads`; returns the loss sum. */
  async #accumulateOnHost(grads: Float32Array): Promise<number> {
    const step = this.#trainStep as TrainStep;
    const scale = (this.#scaler?.scale ?? 1) / this.tokensPerStep;
    let lossSum = 0;
    for (const m of this.#microBatches()) {
      lossSum += await step.accumulate(this.#params, this.#ids, this.#targets, scale, grads, m);
    }
    return lossSum;
  }

  /**
   * This worker's micro-batches on the device: gradients (times `lossScale` / tokens) and the loss
   * sum accumulate in GPU memory, with nothing read back in between.
   */
  #accumulateOnDevice(device: DeviceTraining, lossScale: number) {
    const scale = lossScale / this.tokensPerStep;
    return device.accumulate(this.#microBatches(), this.#ids, this.#targets, scale);
  }

  /** Fills the ids and targets of each micro-batch in turn, yielding its rows for dropout. */
  *#microBatches(): Generator<{ seed: number; samples: number[] }> {
    const { microBatch, gradAccum } = this.train;
    const samples = this.stepSamples();
    for (let m = 0; m < gradAccum; m++) {
      for (let r = 0; r < microBatch; r++) {
        this.#sampler.fill(samples[m * microBatch + r], this.#ids, this.#targets, r);
      }
      yield { seed: this.train.seed, samples: samples.slice(m * microBatch, (m + 1) * microBatch) };
    }
  }

  /** A whole step in GPU memory: micro-batches, then DeviceAdamW; reads back the loss and two scalars. */
  async #deviceStep(device: DeviceTraining, injectOverflow: boolean): Promise<StepMetrics> {
    const started = performance.now();
    const scale = this.#scaler?.scale ?? 1;
    // An infinite loss scale poisons every gradient, as the host path's injected inf does one.
    const acc = await this.#accumulateOnDevice(device, injectOverflow ? Infinity : scale);
    const lr = this.lr;
    const result = await device.update(acc.grads, {
      lr,
      lossScale: scale,
      maxNorm: this.train.gradClip > 0 ? this.train.gradClip : Infinity,
    });
    this.#gradsAndLoss[this.#trainStep.gradSize] =
      (await device.memory.download<"float32">(acc.loss))[0];
    device.discard(acc);
    const loss = this.lastLoss;
    if (this.#scaler) this.#scaler.update(result.skipped);
    else if (result.skipped) throw this.#nonFinite(loss);
    return this.#advance(started, {
      loss,
      lr,
      gradNorm: result.skipped ? NaN : result.gradNorm,
      skipped: result.skipped,
    });
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
      throw this.#nonFinite(loss);
    }
    if (!skipped) {
      gradNorm = clipGradNorm([gradient], this.train.gradClip > 0 ? this.train.gradClip : Infinity);
      this.#optimizer.step(
        new Map(
          this.#trainStep.trainable.map((
            s,
          ) => [s.name, this.#trainStep.gradView(gradient, s.name)]),
        ),
        lr,
      );
      this.#device?.hostChanged(true);
    }
    return this.#advance(started, { loss, lr, gradNorm, skipped });
  }

  #nonFinite(loss: number): Error {
    return new Error(
      `Step ${this.step}: the fp32 gradients hold inf or NaN (loss ${loss}); lower --lr`,
    );
  }

  #advance(
    started: number,
    s: { loss: number; lr: number; gradNorm: number; skipped: boolean },
  ): StepMetrics {
    this.step++;
    this.dataPosition += this.samplesPerStep;
    const seconds = (performance.now() - started) / 1000;
    return {
      step: this.step,
      loss: s.loss,
      lr: s.lr,
      grad_norm: s.gradNorm,
      loss_scale: this.#scaler?.scale ?? 1,
      tokens_per_s: this.tokensPerStep / seconds,
      tokens: this.dataPosition * this.tokensPerStep / this.samplesPerStep,
      skipped: s.skipped,
    };
  }

  /** sha256 of the weights, to check that every worker holds the same ones. */
  async weightsHash(): Promise<string> {
    await this.syncToHost();
    const p = this.#params;
    return await sha256Hex(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }

  /** Mean token loss over the first `evalBatches` micro-batches of the validation split. */
  async evaluate(): Promise<number | undefined> {
    const evalOnDevice = this.#device?.evalStep;
    if ((!this.#evalStep && !evalOnDevice) || !this.#valSampler) return undefined;
    const { microBatch, evalBatches } = this.train;
    const batches = Math.min(
      evalBatches,
      Math.max(1, Math.floor(this.#valSampler.windows / microBatch)),
    );
    const params = this.#device ? await this.#device.params() : undefined;
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
      sum += evalOnDevice
        ? await evalOnDevice.lossSum(params!, this.#ids, this.#targets)
        : await this.#evalStep!.lossSum(this.#params, this.#ids, this.#targets);
    }
    return sum / (batches * this.#trainStep.tokens);
  }

  /** Everything a checkpoint stores to resume this run exactly (weights copied from the GPU first). */
  async checkpointContents(): Promise<CheckpointContents> {
    await this.syncToHost();
    const tensors = new Map(
      this.#trainStep.specs.map((
        s,
      ) => [s.name, { data: this.#trainStep.view(this.#params, s.name), shape: s.shape }]),
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
      if (!t || t.data.length !== this.#trainStep.view(this.#params, s.name).length) {
        throw new InputError(
          `${ckpt.path}/model.safetensors`,
          `tensor "${s.name}" is missing or has the wrong shape`,
        );
      }
      this.#trainStep.view(this.#params, s.name).set(t.data);
    }
    this.#optimizer.importState(ckpt.optimizer);
    this.#device?.hostChanged(true);
    const state = ckpt.state as { step: number; data_position?: number; loss_scale?: unknown };
    this.step = state.step;
    this.dataPosition = state.data_position ?? 0;
    if (this.#scaler && state.loss_scale) {
      this.#scaler.importState(state.loss_scale as { scale: number; goodSteps: number });
    }
  }
}
