/**
 * The trainer's state in GPU memory (`--device webgpu`): the fp32 master weights, the AdamW moments,
 * and the gradient and loss accumulators of the step in flight, plus which copy of the weights and
 * of the moments (host or device) is the newer. Copies cross only when the other side needs them:
 * weights go up after the host changed them (a restore, or an update the host computed for a ring)
 * and come down for a checkpoint or a weights hash; moments likewise.
 */
import { DeviceMemory } from "../device_memory.ts";
import type { DeviceAccumulation, DeviceEvalStep, DeviceTrainStep } from "../gpt/mod.ts";
import { type AdamW, DeviceAdamW, type DeviceStepOptions } from "../optim/mod.ts";
import type { ort } from "../runtime.ts";

type Side = "host" | "device" | "same";

export class DeviceTraining {
  readonly memory: DeviceMemory;
  readonly trainStep: DeviceTrainStep;
  readonly evalStep: DeviceEvalStep | undefined;
  readonly #optimizer: DeviceAdamW;
  readonly #host: { params: Float32Array; optimizer: AdamW };
  #params: ort.Tensor | undefined;
  #zero: DeviceAccumulation | undefined;
  #newer: { params: Side; moments: Side } = { params: "host", moments: "host" };

  private constructor(
    memory: DeviceMemory,
    steps: { train: DeviceTrainStep; eval: DeviceEvalStep | undefined },
    optimizer: DeviceAdamW,
    host: { params: Float32Array; optimizer: AdamW },
  ) {
    this.memory = memory;
    this.trainStep = steps.train;
    this.evalStep = steps.eval;
    this.#optimizer = optimizer;
    this.#host = host;
  }

  /**
   * Device state mirroring the host's `params` and `optimizer` (same hyper-parameters). The host
   * copies start as the newer ones, so the first use uploads them.
   */
  static async create(
    memory: DeviceMemory,
    steps: { train: DeviceTrainStep; eval: DeviceEvalStep | undefined },
    host: { params: Float32Array; optimizer: AdamW },
  ): Promise<DeviceTraining> {
    const { beta1, beta2, eps, weightDecay } = host.optimizer;
    const trainable = new Set(steps.train.trainable.map((s) => s.name));
    const layout = steps.train.specs.map((s) => ({ ...s, frozen: !trainable.has(s.name) }));
    const optimizer = await DeviceAdamW.create(layout, memory, {
      beta1,
      beta2,
      eps,
      weightDecay,
    });
    return new DeviceTraining(memory, steps, optimizer, host);
  }

  /** True when the device holds weights or moments the host copies lack. */
  get hostIsStale(): boolean {
    return this.#newer.params === "device" || this.#newer.moments === "device";
  }

  /** The host changed its weights (and, with `moments`, its optimizer state). */
  hostChanged(moments: boolean): void {
    this.#newer.params = "host";
    if (moments) this.#newer.moments = "host";
  }

  /** The device weights, uploaded first if the host's are newer. */
  async params(): Promise<ort.Tensor> {
    if (!this.#params || this.#newer.params === "host") {
      const fresh = await this.memory.upload(this.#host.params, [this.#host.params.length]);
      this.#params?.dispose();
      this.#params = fresh;
      this.#newer.params = "same";
    }
    return this.#params;
  }

  /**
   * Runs the micro-batches `batches` yields (each after filling `ids` and `targets`) on the device
   * weights; their gradients, times `lossScale`, and their loss sum accumulate in GPU memory. The
   * caller {@linkcode discard}s the result.
   */
  async accumulate(
    batches: Iterable<{ seed: number; samples: number[] }>,
    ids: BigInt64Array,
    targets: BigInt64Array,
    lossScale: number,
  ): Promise<DeviceAccumulation> {
    const params = await this.params();
    let acc = this.#zero ??= {
      grads: await this.memory.zeros([this.trainStep.gradSize]),
      loss: await this.memory.zeros([1]),
    };
    for (const rows of batches) {
      const next = await this.trainStep.accumulate(params, acc, ids, targets, lossScale, rows);
      this.discard(acc);
      acc = next;
    }
    return acc;
  }

  /** Frees an accumulation unless it is the shared zero one. */
  discard(acc: DeviceAccumulation): void {
    if (acc === this.#zero) return;
    acc.grads.dispose();
    acc.loss.dispose();
  }

  /**
   * The AdamW step on the device with the step's accumulated gradients; the new weights replace
   * the old ones there, and the host copies become stale.
   */
  async update(grads: ort.Tensor, o: DeviceStepOptions) {
    const params = await this.params();
    if (this.#newer.moments === "host") {
      await this.#optimizer.importState(this.#host.optimizer.exportState({ copy: false }));
      this.#newer.moments = "same";
    }
    const result = await this.#optimizer.step(params, grads, o);
    if (!result.skipped) {
      params.dispose();
      this.#params = result.params;
      this.#newer = { params: "device", moments: "device" };
    } else {
      result.params.dispose();
    }
    return result;
  }

  /** Brings the host weights and moments up to date with the device's. */
  async syncToHost(): Promise<void> {
    if (this.#newer.params === "device") {
      this.#host.params.set(await this.memory.download<"float32">(this.#params!));
      this.#newer.params = "same";
    }
    if (this.#newer.moments === "device") {
      this.#host.optimizer.importState(await this.#optimizer.exportState());
      this.#newer.moments = "same";
    }
  }

  /** Frees every device tensor and session. */
  async release(): Promise<void> {
    this.#params?.dispose();
    if (this.#zero) {
      this.#zero.grads.dispose();
      this.#zero.loss.dispose();
    }
    await this.#optimizer.release();
    await this.trainStep.release();
    await this.evalStep?.release();
    await this.memory.release();
  }
}
