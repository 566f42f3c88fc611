/**
 * An fp16 buffer (gradients cast to fp16 in the train-step graph) all-reduced as its own bytes,
 * between real processes: exact where fp16 holds the sums, within fp16 rounding otherwise, and
 * identical on every rank.
 */
import assert from "node:assert/strict";
import { spawnProbeRing } from "../../../worker/collective/mod.ts";
import { sharedMemoryAvailable } from "../../../worker/collective/shm/shared_memory.ts";

const TRANSPORTS = ["tcp", ...(sharedMemoryAvailable() ? ["shm" as const] : [])] as const;

for (const transport of TRANSPORTS) {
  Deno.test(`an fp16 buffer sums exactly in fp16 and within its rounding otherwise, all ranks alike (${transport})`, async () => {
    const n = 3;
    await using ring = await spawnProbeRing(n, { transport });
    // Small integers: every partial sum is an integer below 2048, which fp16 holds exactly.
    const ints = await ring.all(() => ({
      cmd: "allreduce",
      length: 20_011,
      buffer: "fp16",
      options: { step: 1, chunkBytes: 4096 },
    }));
    for (const reply of ints) {
      assert.equal(reply.failed, undefined, String(reply.error));
      assert.equal(reply.maxAbsErr, 0);
      assert.equal(reply.sha256, ints[0].sha256, "ranks differ");
    }
    // Reals: the inputs are rounded to fp16 once, each of the n − 1 adds once (half an ulp of
    // partial sums of at most n(n+1)/2), and the mean's division once.
    const maxSum = (n * (n + 1)) / 2;
    const tolerance = (2 * n + 1) * maxSum * 2 ** -11;
    const reals = await ring.all(() => ({
      cmd: "allreduce",
      length: 20_011,
      buffer: "fp16",
      pattern: "reals",
      seed: 4,
      options: { step: 2, chunkBytes: 4096, op: "mean" },
    }));
    for (const reply of reals) {
      const err = reply.maxAbsErr as number;
      console.log(`fp16 buffer, mean of reals: max abs error ${err.toExponential(3)}`);
      assert.ok(err > 0 && err <= tolerance, `error ${err} outside (0, ${tolerance}]`);
      assert.equal(reply.sha256, reals[0].sha256, "ranks differ");
    }
  });
}
