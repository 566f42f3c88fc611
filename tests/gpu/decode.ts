/**
 * Serving on webgpu (on lavapipe in CI): with the KV cache in GPU memory, cached greedy decoding
 * gives the CPU engine's tokens and logits, through two sequences in one batch, a release that
 * moves the last slot, and a growth of the cache's capacity; a prompt scored without a slot (the
 * echoed log-probabilities of the BatchEngine contract) gives the CPU's logits; every node of the
 * prefill, decode, whole-sequence and cache-regroup graphs runs on the GPU (their sessions forbid
 * CPU fallback).
 */
import assert from "node:assert/strict";
import { InferenceEngine } from "../../model/infer/mod.ts";
import { argmax, tinyModel } from "../infer/_model.ts";
import { maxDiff, requireWebGpu } from "./_webgpu.ts";

/** Greedy tokens of two prompts decoded together; the first is released halfway. */
async function generate(device: string) {
  const { cfg, weights } = tinyModel({ contextLength: 64 });
  const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 2, threads: 1, device });
  // The second prompt is 28 tokens, so its cache outgrows the first block of 32 positions.
  const prompts = [[5, 17, 250, 3], Array.from({ length: 28 }, (_, i) => (i * 11 + 1) % 300)];
  const tokens: number[][] = [[], []];
  const last: number[] = [];
  for (const p of prompts) last.push(argmax((await engine.prefill(engine.acquire(), p)).logits!));
  tokens.forEach((t, i) => t.push(last[i]));
  let logits: Float32Array[] = [];
  let sequenceOfSlot = [0, 1];
  for (let step = 0; step < 12; step++) {
    if (step === 6) {
      assert.equal(engine.release(0), 1, "the last slot moves into the freed one");
      sequenceOfSlot = [1];
      last.shift();
    }
    const next = await engine.decode(last);
    logits = next.map((r) => r.logits!.slice());
    next.forEach((r, s) => tokens[sequenceOfSlot[s]].push(last[s] = argmax(r.logits!)));
  }
  return {
    tokens,
    logits,
    capacity: engine.cache.capacity,
    onDevice: engine.cache.onDevice,
  };
}

Deno.test("cached greedy decoding on webgpu gives the CPU's tokens, through a release and a capacity change", async () => {
  await requireWebGpu();
  const cpu = await generate("cpu"), gpu = await generate("webgpu");
  assert.ok(gpu.onDevice, "the webgpu engine keeps its cache in GPU memory");
  assert.equal(gpu.capacity, 64, "the cache grew past its first block");
  assert.deepEqual(gpu.tokens, cpu.tokens);
  const d = maxDiff(cpu.logits[0], gpu.logits[0]);
  console.log(
    `max |logit difference| after 12 steps: ${d.diff.toExponential(2)} (logits up to ${
      d.scale.toFixed(1)
    })`,
  );
  assert.ok(d.diff < 1e-4 * d.scale, `logits differ by ${d.diff}`);
});

Deno.test("prompt scoring on webgpu (promptLogits, the BatchEngine call behind echoed log-probabilities) gives the CPU's logits and takes no slot", async () => {
  await requireWebGpu();
  const { cfg, weights } = tinyModel({ contextLength: 64 });
  const prompt = Array.from({ length: 20 }, (_, i) => (i * 7 + 3) % 300);
  const score = async (device: string) => {
    const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 2, threads: 1, device });
    const logits = await engine.promptLogits(prompt);
    assert.equal(engine.active, 0, "scoring a prompt uses no slot");
    return logits;
  };
  const cpu = await score("cpu"), gpu = await score("webgpu");
  assert.equal(gpu.length, prompt.length * cfg.vocabSize);
  const d = maxDiff(cpu, gpu);
  console.log(`max |prompt logit difference|: ${d.diff.toExponential(2)}`);
  assert.ok(d.diff < 1e-4 * d.scale, `prompt logits differ by ${d.diff}`);
});
