/**
 * Training on webgpu (on lavapipe in CI) against the CPU: every node of the train-step and eval
 * graphs on the GPU, losses and gradients within stated tolerances over several steps in fp32 and
 * fp16, both with the update computed on the host (as in a ring) and in GPU memory, frozen
 * parameters (`--freeze`), an fp16 gradient wire (`"wire": "fp16"`) with frozen parameters, fp16
 * overflow skipping, and a resumed run that repeats an uninterrupted one bit for bit.
 */
import assert from "node:assert/strict";
import {
  DeviceEvalStep,
  DeviceTrainStep,
  GptConfig,
  type Precision,
  TrainStep,
} from "../../model/gpt/mod.ts";
import { byteTokenizer, toTokenizerJson } from "../../model/tokenizer/mod.ts";
import { type AllReduce, TrainConfig, Trainer, type TrainerInit } from "../../model/train/mod.ts";
import { maxDiff, requireWebGpu } from "./_webgpu.ts";

const tok = byteTokenizer();
const tokens = Uint16Array.from(
  tok.encode(Deno.readTextFileSync("/usr/share/common-licenses/GPL-3")),
);
// Tiny on purpose: lavapipe computes about 16 times slower than the CPU provider.
const model = GptConfig.parse({
  vocabSize: tok.vocabSize,
  contextLength: 16,
  layers: 2,
  heads: 2,
  width: 32,
});

function init(device: string, precision: Precision, over: Partial<TrainConfig> = {}): TrainerInit {
  return {
    model,
    train: TrainConfig.parse({
      microBatch: 2,
      gradAccum: 2,
      steps: 6,
      warmupSteps: 1,
      lr: 1e-3,
      evalEvery: 0,
      evalBatches: 2,
      precision,
      ...over,
    }),
    trainTokens: tokens,
    valTokens: tokens.subarray(tokens.length - 2048),
    tokenizerJson: JSON.stringify(toTokenizerJson(tok)),
    device,
    threads: 1,
  };
}

/** The all-reduce of a ring of one: it makes the trainer update on the host, as ranks do. */
const ringOfOne = () => Promise.resolve();

Deno.test("every node of the device train-step and eval graphs has a WebGPU kernel (fp32, fp16, dropout); the host layout is refused", async () => {
  await requireWebGpu();
  const shape = { microBatch: 2, precision: "fp32" as const };
  const cases: [Precision, number][] = [["fp32", 0], ["fp16", 0], ["fp32", 0.1]];
  for (const [precision, dropout] of cases) {
    const cfg = GptConfig.parse({ ...model, dropout });
    // webgpu sessions forbid CPU fallback: compiling is the proof.
    await (await DeviceTrainStep.create(cfg, { ...shape, precision }, { device: "webgpu" }))
      .release();
    await (await DeviceEvalStep.create(cfg, { ...shape, precision }, { device: "webgpu" }))
      .release();
  }
  // The check has teeth: SoftmaxCrossEntropyLoss and int64 Reshape have no WebGPU kernels.
  await assert.rejects(
    () => TrainStep.create(model, shape, { device: "webgpu" }),
    /has no WebGPU kernel, and webgpu sessions may not fall back to the CPU/,
  );
});

/** Tolerances, relative to the largest value compared. */
const tolerance = {
  fp32: { loss: 1e-6, grad: 1e-4, weights: 1e-4 },
  fp16: { loss: 1e-3, grad: 3e-2, weights: 5e-2 },
};

for (const precision of ["fp32", "fp16"] as const) {
  Deno.test(`${precision} on webgpu gives the CPU's losses and gradients over 3 host-updated and 3 device-updated steps`, async () => {
    await requireWebGpu();
    const cpu = await Trainer.create(init("cpu", precision));
    const gpu = await Trainer.create(init("webgpu", precision));
    const tol = tolerance[precision];
    let worstLoss = 0, worstGrad = 0;
    try {
      for (let step = 0; step < 6; step++) {
        const hostUpdate = step < 3;
        const a = await cpu.trainStep(ringOfOne);
        const b = await gpu.trainStep(hostUpdate ? ringOfOne : undefined);
        assert.equal(b.skipped, false);
        worstLoss = Math.max(worstLoss, Math.abs(a.loss - b.loss) / a.loss);
        if (hostUpdate) {
          const g = maxDiff(cpu.lastGradient, gpu.lastGradient);
          worstGrad = Math.max(worstGrad, g.diff / g.scale);
        } else {
          assert.ok(Math.abs(a.grad_norm - b.grad_norm) / a.grad_norm < tol.grad, "grad norm");
        }
      }
      await gpu.syncToHost();
      const w = maxDiff(cpu.params, gpu.params);
      const valCpu = (await cpu.evaluate())!, valGpu = (await gpu.evaluate())!;
      console.log(
        `${precision}: max relative loss diff ${worstLoss.toExponential(2)}, gradient ${
          worstGrad.toExponential(2)
        }, weights after 6 steps ${
          (w.diff / w.scale).toExponential(2)
        }, val loss ${valCpu} vs ${valGpu}`,
      );
      assert.ok(worstLoss < tol.loss, `losses differ by ${worstLoss}`);
      assert.ok(worstGrad < tol.grad, `gradients differ by ${worstGrad}`);
      assert.ok(w.diff / w.scale < tol.weights, `weights differ by ${w.diff / w.scale}`);
      assert.ok(Math.abs(valCpu - valGpu) / valCpu < tol.loss, "validation loss");
    } finally {
      await cpu.release();
      await gpu.release();
    }
  });
}

Deno.test("--freeze on webgpu: frozen weights stay bit for bit, without gradients or moments; the rest follow the CPU over host- and device-updated steps", async () => {
  await requireWebGpu();
  const freeze = { freeze: { embeddings: true, layers: 1 } };
  const cpu = await Trainer.create(init("cpu", "fp32", freeze));
  const gpu = await Trainer.create(init("webgpu", "fp32", freeze));
  try {
    const initial = await gpu.checkpointContents();
    const frozen = [...initial.tensors.keys()].filter((name) =>
      name.startsWith("transformer.wte.") || name.startsWith("transformer.wpe.") ||
      name.startsWith("transformer.h.0.")
    );
    const before = new Map(frozen.map((n) => [n, initial.tensors.get(n)!.data.slice()]));
    assert.deepEqual(gpu.parameterCounts, cpu.parameterCounts);
    assert.ok(gpu.parameterCounts.trainable < gpu.parameterCounts.total);
    for (let step = 0; step < 4; step++) {
      const hostUpdate = step < 2;
      const a = await cpu.trainStep(ringOfOne);
      const b = await gpu.trainStep(hostUpdate ? ringOfOne : undefined);
      assert.ok(Math.abs(a.loss - b.loss) / a.loss < tolerance.fp32.loss, `step ${step + 1} loss`);
      if (hostUpdate) {
        assert.equal(gpu.lastGradient.length, gpu.parameterCounts.trainable);
        const g = maxDiff(cpu.lastGradient, gpu.lastGradient);
        assert.ok(g.diff < tolerance.fp32.grad * g.scale, `gradients differ by ${g.diff}`);
      }
    }
    const [want, got] = [await cpu.checkpointContents(), await gpu.checkpointContents()];
    let worst = { diff: 0, scale: 0 };
    for (const [name, t] of got.tensors) {
      if (before.has(name)) {
        assert.deepEqual(t.data, before.get(name), `${name} is frozen`);
        assert.ok(!got.optimizer.m.has(name), `${name} has no moments`);
      } else {
        const w = maxDiff(want.tensors.get(name)!.data, t.data);
        worst = { diff: Math.max(worst.diff, w.diff), scale: Math.max(worst.scale, w.scale) };
        assert.ok(got.optimizer.m.has(name), `${name} has moments`);
      }
    }
    console.log(`trainable weights after 4 steps: ${(worst.diff / worst.scale).toExponential(2)}`);
    assert.ok(worst.diff < tolerance.fp32.weights * worst.scale, `weights differ by ${worst.diff}`);
    assert.equal(got.optimizer.m.size, want.optimizer.m.size);
  } finally {
    await cpu.release();
    await gpu.release();
  }
});

Deno.test('"wire": "fp16" on webgpu with --freeze: the all-reduce carries the trainable gradients as fp16 and the loss as fp32, frozen weights stay, the rest follow the CPU', async () => {
  await requireWebGpu();
  const fp16Wire = (device: string): TrainerInit => ({
    ...init(device, "fp32", { freeze: { embeddings: true, layers: 1 } }),
    gradientWire: "fp16",
  });
  const cpu = await Trainer.create(fp16Wire("cpu"));
  const gpu = await Trainer.create(fp16Wire("webgpu"));
  try {
    const before = (await gpu.checkpointContents()).tensors.get(
      "transformer.h.0.attn.c_attn.weight",
    )!
      .data.slice();
    const { trainable } = gpu.parameterCounts;
    // A ring of one that records what it was handed: the buffers a real ring would carry.
    const carried: string[] = [];
    const recordingRing: AllReduce = (buffer, bucket) => {
      carried.push(`${bucket}: ${buffer.constructor.name} of ${buffer.length}`);
      return Promise.resolve();
    };
    for (let step = 0; step < 3; step++) {
      const a = await cpu.trainStep(ringOfOne);
      const b = await gpu.trainStep(recordingRing);
      assert.equal(b.skipped, a.skipped, `step ${step + 1} skipped on one device only`);
      // The first step starts from the same weights; after it, gradients a rounding apart in fp32
      // may round to neighbouring fp16 values (the CPU in its graph, webgpu on the host).
      const tol = step === 0 ? tolerance.fp32 : tolerance.fp16;
      console.log(`step ${step + 1}: loss ${a.loss} (cpu) vs ${b.loss} (webgpu)`);
      assert.ok(Math.abs(a.loss - b.loss) / a.loss < tol.loss, `step ${step + 1} loss`);
      const g = maxDiff(cpu.lastGradient, gpu.lastGradient);
      assert.ok(g.diff < tolerance.fp16.grad * g.scale, `gradients differ by ${g.diff}`);
    }
    assert.deepEqual(
      carried,
      [1, 2, 3].flatMap(() => [`0: Float16Array of ${trainable}`, "1: Float32Array of 1"]),
    );
    const after = (await gpu.checkpointContents()).tensors;
    assert.deepEqual(after.get("transformer.h.0.attn.c_attn.weight")!.data, before, "frozen");
    const w = maxDiff(cpu.params, gpu.params);
    assert.ok(w.diff < tolerance.fp16.weights * w.scale, `weights differ by ${w.diff}`);
  } finally {
    await cpu.release();
    await gpu.release();
  }
});

Deno.test("an fp16 overflow on webgpu skips the device update, keeps the weights and halves the loss scale", async () => {
  await requireWebGpu();
  const gpu = await Trainer.create(init("webgpu", "fp16"));
  try {
    await gpu.trainStep();
    await gpu.syncToHost();
    const before = gpu.params.slice();
    const m = await gpu.trainStep(undefined, true);
    assert.equal(m.skipped, true);
    assert.equal(m.loss_scale, 32768);
    await gpu.syncToHost();
    assert.deepEqual(gpu.params, before, "a skipped step must not change the weights");
    assert.equal((await gpu.trainStep()).skipped, false);
  } finally {
    await gpu.release();
  }
});

Deno.test("a webgpu run resumed from a checkpoint repeats the uninterrupted run bit for bit", async () => {
  await requireWebGpu();
  const straight = await Trainer.create(init("webgpu", "fp16"));
  const resumed = await Trainer.create(init("webgpu", "fp16"));
  try {
    while (straight.step < 2) await straight.trainStep();
    const saved = await straight.checkpointContents();
    resumed.restore({ ...saved, path: "(in memory)" });
    while (straight.step < 4) await straight.trainStep();
    while (resumed.step < 4) await resumed.trainStep();
    assert.equal(await resumed.weightsHash(), await straight.weightsHash());
  } finally {
    await straight.release();
    await resumed.release();
  }
});

Deno.test("bf16 is refused on webgpu with a message naming the device and the flag", async () => {
  await requireWebGpu();
  await assert.rejects(
    () => Trainer.create(init("webgpu", "bf16")),
    /--precision: bf16 is not supported on webgpu: WGSL has no bfloat16 type/,
  );
});
