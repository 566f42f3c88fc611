/**
 * The AdamW step as an ONNX graph on webgpu against the TypeScript optimizer it mirrors (unscale,
 * clip, decoupled decay, moments, update): equal to a few fp32 ulps, and an overflow leaves weights
 * and moments alone.
 */
import assert from "node:assert/strict";
import { DeviceMemory } from "../../model/device_memory.ts";
import { AdamW, clipGradNorm, DeviceAdamW, LossScaler, Rng } from "../../model/optim/mod.ts";
import { maxDiff, requireWebGpu } from "./_webgpu.ts";

Deno.test("DeviceAdamW on webgpu matches AdamW with clipping and loss scaling to 1e-6, and skips an overflow", async () => {
  await requireWebGpu();
  const specs = [
    { name: "w", shape: [40, 25], decay: true },
    { name: "b", shape: [25], decay: false },
  ];
  const n = 1025, rng = new Rng(7);
  const host = Float32Array.from({ length: n }, () => rng.normal() * 0.5);
  const opts = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  const reference = new AdamW([
    { name: "w", data: host.subarray(0, 1000), decay: true },
    { name: "b", data: host.subarray(1000), decay: false },
  ], opts);
  const memory = new DeviceMemory();
  const device = await DeviceAdamW.create(specs, memory, opts);
  let params = await memory.upload(host.slice(), [n]);
  const scale = 1024, maxNorm = 0.5;
  try {
    for (let step = 0; step < 3; step++) {
      const lr = 1e-2 * (step + 1);
      const scaled = Float32Array.from({ length: n }, () => rng.normal() * 0.1 * scale);
      const grads = await memory.upload(scaled, [n]);
      const got = await device.step(params, grads, { lr, lossScale: scale, maxNorm });
      grads.dispose();
      params.dispose();
      params = got.params;
      // The reference: LossScaler.unscale, clipGradNorm, AdamW.step, as the trainer runs them.
      const g = scaled.slice();
      assert.equal(new LossScaler({ initScale: scale }).unscale([g]), false);
      const norm = clipGradNorm([g], maxNorm);
      reference.step(new Map([["w", g.subarray(0, 1000)], ["b", g.subarray(1000)]]), lr);
      assert.equal(got.skipped, false);
      assert.ok(Math.abs(got.gradNorm - norm) / norm < 1e-6, `norm ${got.gradNorm} vs ${norm}`);
      const d = maxDiff(host, await memory.download(params));
      console.log(`step ${step + 1}: max |weight difference| ${d.diff.toExponential(2)}`);
      assert.ok(d.diff < 1e-6 * d.scale, `weights differ by ${d.diff}`);
    }
    const state = await device.exportState();
    const expected = reference.exportState();
    assert.equal(state.step, 3);
    assert.ok(maxDiff(expected.m.get("w")!, state.m.get("w")!).diff < 1e-8);

    const poisoned = new Float32Array(n);
    poisoned[3] = Infinity;
    const grads = await memory.upload(poisoned, [n]);
    const before = await memory.download(params);
    const skipped = await device.step(params, grads, { lr: 1e-2, lossScale: scale, maxNorm });
    grads.dispose();
    assert.equal(skipped.skipped, true);
    assert.equal(device.stepCount, 3, "a skipped step does not count");
    assert.deepEqual(await memory.download(skipped.params), before);
    skipped.params.dispose();
  } finally {
    params.dispose();
    await device.release();
    await memory.release();
  }
});
