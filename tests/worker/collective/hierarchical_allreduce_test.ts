/**
 * The hierarchical all-reduce on 2 emulated hosts × 2 ranks (real processes in network namespaces,
 * shared memory inside a host, the TCP data plane between hosts): the same sums as the flat ring,
 * and a step that a rank's death breaks fails fast and runs again on the survivors.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../../model/sha256.ts";
import {
  EmulatedHosts,
  emulatedHostsUnavailable,
  probeValue,
  sharedMemoryAvailable,
  spawnProbeRing,
} from "../../../worker/collective/mod.ts";

const unavailable = await emulatedHostsUnavailable();
if (unavailable) console.log(`Skipping the hierarchical all-reduce tests: ${unavailable}`);
const ignore = !!unavailable || !sharedMemoryAvailable();

/** Ranks 0, 1 on host 0; 2, 3 on host 1. */
const hostOf = (rank: number) => rank >> 1;

/** sha256 of the fp32 sum of the `ints` inputs of `ranks`, computed here. */
async function expectedHash(ranks: number[], length: number, seed: number): Promise<string> {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    for (const r of ranks) out[i] += probeValue("ints", r, i, seed);
  }
  return await sha256Hex(new Uint8Array(out.buffer));
}

Deno.test({
  name:
    "on 2 hosts × 2 ranks the hierarchical all-reduce gives the flat ring's sums, fp16 buffers too",
  ignore,
  fn: async () => {
    await using hosts = await EmulatedHosts.create(2, { rate: "10gbit" });
    await using ring = await spawnProbeRing(4, { transport: "shm", hosts, hostOf });
    const length = 300_007;
    const command = (step: number, hierarchical: boolean, extra: Record<string, unknown> = {}) =>
      ring.all(() => ({
        cmd: "allreduce",
        length,
        seed: 5,
        hierarchical,
        ...extra,
        options: { step, chunkBytes: 64 * 1024, ...(extra.options as object) },
      }));
    const flat = await command(1, false);
    // A new ring version, as whenever a ring re-forms: the flat ring's connections are closed,
    // and their ends must not fail the new collectives.
    await ring.hierarchy(hostOf, 1);
    const twoLevel = await command(2, true);
    const want = await expectedHash([0, 1, 2, 3], length, 5);
    for (const [rank, reply] of twoLevel.entries()) {
      assert.equal(reply.failed, undefined, `rank ${rank}: ${reply.error}`);
      assert.equal(reply.sha256, want, `rank ${rank}`);
      assert.equal(reply.sha256, flat[rank].sha256, `rank ${rank}: not the flat ring's bits`);
      // Members reach their leader through shared memory; leaders each other over the link.
      assert.equal(reply.path, rank % 2 === 0 ? "tcp" : "shm", `rank ${rank}`);
    }
    // Reals: the order of the sum differs from the flat ring's, so within fp32 rounding: each of
    // the three adds rounds once (half an ulp of sums of at most 1 + 2 + 3 + 4), and the mean's
    // division once.
    const reals = await command(3, true, {
      pattern: "reals",
      options: { op: "mean", wire: "bf16" },
    });
    for (const reply of reals) {
      const err = reply.maxAbsErr as number;
      // bf16 between the hosts: the leaders' ring rounds each partial sum to 8 significant bits.
      const tolerance = 4 * 10 * 2 ** -8;
      console.log(`hierarchical bf16 mean of reals: max abs error ${err.toExponential(3)}`);
      assert.ok(err <= tolerance, `error ${err} > ${tolerance}`);
      assert.equal(reply.sha256, reals[0].sha256, "ranks differ");
    }
    const half = await command(4, true, { buffer: "fp16" });
    for (const reply of half) {
      assert.equal(reply.maxAbsErr, 0, "fp16 holds these integer sums exactly");
      assert.equal(reply.sha256, half[0].sha256);
    }
  },
});

Deno.test({
  name:
    "a host leader killed mid all-reduce fails the others fast; the survivors form two levels again",
  ignore,
  fn: async () => {
    await using hosts = await EmulatedHosts.create(2);
    await using ring = await spawnProbeRing(4, { transport: "shm", hosts, hostOf });
    await ring.hierarchy(hostOf);
    const chunkTimeoutMs = 1500;
    const pending = ring.procs.map((p) =>
      p.send({
        cmd: "allreduce",
        length: 1_000_000,
        repeat: 10_000, // runs until something breaks
        check: false,
        hierarchical: true,
        options: { step: 1, chunkBytes: 64 * 1024, chunkTimeoutMs, timeoutMs: 60_000 },
      }).catch((err): Record<string, unknown> => ({ exited: String(err) }))
    );
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = performance.now();
    ring.procs[2].kill("SIGKILL");
    for (const rank of [0, 1, 3]) {
      const reply = await pending[rank];
      const afterKillMs = performance.now() - killedAt;
      console.log(
        `rank ${rank} failed ${afterKillMs.toFixed(0)} ms after the kill: ${reply.error}`,
      );
      assert.equal(reply.failed, true, JSON.stringify(reply));
      assert.match(String(reply.error), /All-reduce of step \d+ failed on rank \d of 4: /);
      assert.ok(afterKillMs < 3 * chunkTimeoutMs + 1000, `rank ${rank} took ${afterKillMs} ms`);
    }
    // Host 1 keeps rank 3, now its leader; the ring re-forms under a new version and is exact.
    const survivors = [0, 1, 3];
    await ring.hierarchy(hostOf, 1, survivors);
    const replies = await ring.all(() => ({
      cmd: "allreduce",
      length: 4099,
      check: false,
      hierarchical: true,
      options: { step: 1 },
    }), survivors);
    const want = await expectedHash(survivors, 4099, 0);
    for (const reply of replies) assert.equal(reply.sha256, want, JSON.stringify(reply));
  },
});
