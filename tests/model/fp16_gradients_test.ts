/** A train step whose gradient outputs are cast to fp16 in the graph, against the fp32 step. */
import assert from "node:assert/strict";
import { buildTrainStepGraph, GptConfig, initParams, TrainStep } from "../../model/gpt/mod.ts";
import { Rng } from "../../model/optim/mod.ts";
import { frozenParams } from "../../model/train/mod.ts";

const cfg = GptConfig.parse({ vocabSize: 50, contextLength: 8, layers: 2, heads: 2, width: 16 });

for (const freeze of [undefined, { embeddings: true, layers: 1 }]) {
  const what = freeze ? "with --freeze, the trainable" : "all";
  Deno.test(`fp16 gradient outputs (${what} parameters) are the fp32 step's rounded to fp16`, async () => {
    const rng = new Rng(5);
    const weights = initParams(cfg, () => rng.normal());
    const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 7) % 50));
    const targets = BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 3 + 1) % 50));
    const frozen = freeze ? frozenParams(cfg, freeze) : [];
    const run = async (gradients: "fp32" | "fp16") => {
      const shape = { microBatch: 2, precision: "fp32" as const, gradients, frozen };
      const step = await TrainStep.create(cfg, shape, { threads: 1 });
      const flat = new Float32Array(step.size);
      step.specs.forEach((s, i) => flat.set(weights.get(s.name)!, step.offsets[i]));
      const grads = new Float32Array(step.gradSize);
      // A loss scale as the fp16 loss scaler would set it, so no gradient is below fp16's range.
      const loss = await step.accumulate(flat, ids, targets, 1024, grads);
      await step.release();
      return { loss, grads, size: step.size };
    };
    const full = await run("fp32"), half = await run("fp16");
    assert.equal(half.loss, full.loss, "the forward pass is the same");
    assert.equal(half.grads.length, full.grads.length);
    if (freeze) assert.ok(half.grads.length < half.size, "frozen parameters have no gradient");
    let differ = 0, nonzero = 0;
    for (let i = 0; i < full.grads.length; i++) {
      if (half.grads[i] !== Math.f16round(full.grads[i])) differ++;
      if (half.grads[i] !== 0) nonzero++;
    }
    console.log(`fp16 gradients: ${differ} of ${full.grads.length} differ from f16round(fp32)`);
    assert.equal(differ, 0);
    assert.ok(nonzero > full.grads.length / 2, "the gradients are not mostly zero");
  });
}

Deno.test("the device layout, which accumulates its gradients in fp32, refuses fp16 gradient outputs", () => {
  assert.throws(
    () =>
      buildTrainStepGraph(cfg, {
        microBatch: 2,
        precision: "fp32",
        onDevice: true,
        gradients: "fp16",
      }),
    /accumulates its gradients in fp32: gradients "fp16" is for the host layout only/,
  );
});
