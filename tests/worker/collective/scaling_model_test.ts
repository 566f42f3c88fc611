/** The scaling model's arithmetic against hand-computed cases. */
import assert from "node:assert/strict";
import { allReduceSeconds, fitRingCosts, stepPrediction } from "../../../worker/collective/mod.ts";

const costs = { hopSeconds: 1e-4, cpuSecondsPerByte: 0.5e-9 };

Deno.test("an all-reduce is 2(H−1) hops plus 2(H−1)/H of the bytes at the slower of link and ring", () => {
  // 4 hosts, 1 GB on 1 Gbit/s (8 ns a byte, slower than the ring's 0.5): 6 hops + 1.5 GB × 8 ns.
  const slowLink = { ...costs, hosts: 4, bytes: 1e9, linkBitsPerSec: 1e9 };
  assert.ok(Math.abs(allReduceSeconds(slowLink) - (6e-4 + 12)) < 1e-9);
  // On 100 Gbit/s (0.08 ns a byte) the ring's own 0.5 ns a byte is the limit.
  const fastLink = { ...slowLink, linkBitsPerSec: 1e11 };
  assert.ok(Math.abs(allReduceSeconds(fastLink) - (6e-4 + 0.75)) < 1e-9);
  // Emulated: 4 ranks sharing 2 cores process at half speed.
  assert.ok(Math.abs(allReduceSeconds({ ...fastLink, sharedCores: 2 }) - (6e-4 + 1.5)) < 1e-9);
  assert.equal(allReduceSeconds({ ...slowLink, hosts: 1 }), 0);
});

Deno.test("step time adds compute and all-reduce; tokens/s count every host", () => {
  const p = stepPrediction({
    ...costs,
    hosts: 2,
    bytes: 1e8,
    linkBitsPerSec: 1e10,
    computeSeconds: 1,
    tokensPerHost: 1000,
  });
  // 2 hops of 0.1 ms + 1e8 bytes × 0.8 ns = 0.0802 s.
  assert.ok(Math.abs(p.allReduceSeconds - 0.0802) < 1e-9);
  assert.ok(Math.abs(p.tokensPerSec - 2000 / 1.0802) < 1e-6);
  assert.ok(Math.abs(p.efficiency - 1 / 1.0802) < 1e-9);
});

Deno.test("fitting the costs back from two timings recovers them", () => {
  const tiny = allReduceSeconds({ ...costs, hosts: 2, bytes: 0, linkBitsPerSec: 1e12 });
  const large = allReduceSeconds({ ...costs, hosts: 2, bytes: 4e7, linkBitsPerSec: 1e12 });
  const fit = fitRingCosts(2, tiny, 4e7, large);
  assert.ok(Math.abs(fit.hopSeconds - costs.hopSeconds) < 1e-12);
  assert.ok(Math.abs(fit.cpuSecondsPerByte - costs.cpuSecondsPerByte) < 1e-15);
});
