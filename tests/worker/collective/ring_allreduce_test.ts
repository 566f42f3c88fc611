/**
 * Ring all-reduce between real `deno run` processes over real gRPC on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../../model/sha256.ts";
import { probeValue, spawnProbeRing } from "../../../worker/collective/mod.ts";
import { sharedMemoryAvailable } from "../../../worker/collective/shm/shared_memory.ts";

/** The exact fp32 sum of every rank's `ints` input, computed here independently. */
async function expectedHash(worldSize: number, length: number, seed: number, mean = false) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let sum = 0;
    for (let r = 0; r < worldSize; r++) sum += probeValue("ints", r, i, seed);
    out[i] = mean ? sum / worldSize : sum;
  }
  return await sha256Hex(new Uint8Array(out.buffer));
}

/** The transports; `shm` only where this host can share memory (Linux, glibc, FFI). */
const TRANSPORTS = ["grpc", "tcp", ...(sharedMemoryAvailable() ? ["shm" as const] : [])] as const;

for (const transport of TRANSPORTS) {
  Deno.test(`ringAllReduce over ${transport} sums bit-exactly on 1 to 5 processes for lengths that do not divide evenly`, async () => {
    // Small chunks make every segment span many chunks, so the pipeline and the mailbox's
    // out-of-order path are exercised; lengths below the world size leave some segments empty.
    const lengths = [1, 3, 1001, 12_347];
    for (let n = 1; n <= 5; n++) {
      await using ring = await spawnProbeRing(n, { transport });
      for (const [i, length] of lengths.entries()) {
        const replies = await ring.all(() => ({
          cmd: "allreduce",
          length,
          seed: n + i,
          options: { step: i, chunkBytes: 256, window: 4 },
        }));
        const want = await expectedHash(n, length, n + i);
        for (const [rank, reply] of replies.entries()) {
          assert.equal(reply.ok, true, JSON.stringify(reply));
          assert.equal(
            reply.failed,
            undefined,
            `n=${n} length=${length} rank ${rank}: ${reply.error}`,
          );
          assert.equal(reply.maxAbsErr, 0, `n=${n} length=${length} rank ${rank}`);
          assert.equal(reply.sha256, want, `n=${n} length=${length} rank ${rank} differs`);
          if (n > 1 && length >= n) {
            assert.equal(reply.path, transport, "payloads went another way");
          }
        }
      }
    }
  });
}

for (const transport of TRANSPORTS.filter((t) => t !== "grpc")) {
  Deno.test(`over the TCP data plane (${transport}), large chunks sum bit-exactly`, async () => {
    // tcp: read off the socket straight into their arrays, sent without a copy. shm: fp32 payloads
    // read in place from the sender's buffer; fp16 ones (exact for these small integer sums) go
    // through slots, 61 chunks a segment, far more than the 16 slots: without copying some out of
    // their slots on arrival, every rank would wait for a free slot on its right forever.
    await using ring = await spawnProbeRing(3, { transport });
    const length = 1_500_007;
    // 64 KiB + 4 leaves the payloads unaligned to the read buffer; 2 MiB is the default.
    const cases = [
      { chunkBytes: 64 * 1024 + 4, wire: "fp32" },
      { chunkBytes: 2 * 1024 * 1024, wire: "fp32" },
      { chunkBytes: 16 * 1024 + 4, wire: "fp16" },
    ];
    for (const [i, { chunkBytes, wire }] of cases.entries()) {
      const replies = await ring.all(() => ({
        cmd: "allreduce",
        length,
        seed: i,
        check: false,
        options: { step: i, chunkBytes, wire },
      }));
      const want = await expectedHash(3, length, i);
      for (const [rank, reply] of replies.entries()) {
        assert.equal(reply.failed, undefined, `rank ${rank}: ${reply.error}`);
        assert.equal(reply.sha256, want, `${wire}, chunk ${chunkBytes} B: rank ${rank} differs`);
        assert.equal(reply.path, transport);
      }
    }
  });
}

Deno.test("ringAllReduce mean divides by the world size and leaves every rank identical", async () => {
  await using ring = await spawnProbeRing(4);
  const replies = await ring.all(() => ({
    cmd: "allreduce",
    length: 5003,
    seed: 9,
    options: { step: 1, op: "mean", chunkBytes: 1024 },
  }));
  const want = await expectedHash(4, 5003, 9, true);
  for (const reply of replies) assert.equal(reply.sha256, want, JSON.stringify(reply));
});

for (const transport of TRANSPORTS) {
  Deno.test(`fp16 and bf16 wire formats stay within rounding tolerance and all ranks agree (${transport})`, async () => {
    const n = 3;
    await using ring = await spawnProbeRing(n, { transport });
    // |value of rank r| <= r + 1, so every partial sum is at most n(n+1)/2. Each of the n - 1
    // reduce-scatter hops plus the final broadcast rounds once, half an ulp each.
    const maxSum = (n * (n + 1)) / 2;
    for (const [wire, eps] of [["fp16", 2 ** -11], ["bf16", 2 ** -8]] as const) {
      const replies = await ring.all(() => ({
        cmd: "allreduce",
        length: 20_011,
        pattern: "reals",
        seed: 3,
        options: { step: wire === "fp16" ? 1 : 2, wire, chunkBytes: 4096 },
      }));
      const tolerance = n * maxSum * eps;
      for (const reply of replies) {
        assert.equal(reply.failed, undefined, String(reply.error));
        const err = reply.maxAbsErr as number;
        console.log(
          `${wire}: max abs error ${err.toExponential(3)} (tolerance ${
            tolerance.toExponential(3)
          })`,
        );
        assert.ok(err <= tolerance, `${wire} error ${err} > ${tolerance}`);
        assert.ok(err > 0, `${wire} wire gave an exact result: was it used?`);
        assert.equal(reply.sha256, replies[0].sha256, "ranks differ");
      }
    }
  });
}

for (const transport of TRANSPORTS) {
  Deno.test(`a peer killed with SIGKILL mid all-reduce makes the survivors fail fast; a restarted peer re-forms the ring (${transport})`, async () => {
    await using ring = await spawnProbeRing(3, { transport });
    const chunkTimeoutMs = 1500;
    const command = {
      cmd: "allreduce",
      length: 1_000_000,
      repeat: 10_000, // runs until something breaks
      check: false,
      options: { step: 1, chunkBytes: 64 * 1024, chunkTimeoutMs, timeoutMs: 60_000 },
    };
    const pending = ring.procs.map((p) =>
      p.send(command).catch((err): Record<string, unknown> => ({ exited: String(err) }))
    );
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = performance.now();
    ring.procs[2].kill("SIGKILL");
    for (const rank of [0, 1]) {
      const reply = await pending[rank];
      const afterKillMs = performance.now() - killedAt;
      console.log(
        `rank ${rank} failed ${afterKillMs.toFixed(0)} ms after the kill: ${reply.error}`,
      );
      assert.equal(reply.failed, true, JSON.stringify(reply));
      assert.equal(reply.name, "AllReduceError");
      assert.match(String(reply.error), /All-reduce of step \d+ failed on rank \d of 3: /);
      assert.ok(
        afterKillMs < 2 * chunkTimeoutMs + 1000,
        `rank ${rank} took ${afterKillMs} ms to fail`,
      );
    }
    assert.ok("exited" in (await pending[2]));

    // A replacement process takes rank 2; the ring re-forms under a new version and is exact again.
    await ring.respawn(2, 1);
    const replies = await ring.all(() => ({
      cmd: "allreduce",
      length: 4099,
      options: { step: 1 },
    }));
    const want = await expectedHash(3, 4099, 0);
    for (const reply of replies) assert.equal(reply.sha256, want, JSON.stringify(reply));
  });
}

for (const transport of TRANSPORTS) {
  Deno.test(`a frozen peer (SIGSTOP, connection left open) makes the survivors fail by deadline, not hang (${transport})`, async () => {
    // A stopped process keeps its sockets open, so no transport event reports it: only the
    // per-chunk deadlines can end the step (as with a dead host whose HTTP/2 session Deno never closes).
    await using ring = await spawnProbeRing(3, { transport });
    const chunkTimeoutMs = 1500;
    const command = {
      cmd: "allreduce",
      length: 1_000_000,
      repeat: 10_000,
      check: false,
      options: { step: 1, chunkBytes: 64 * 1024, chunkTimeoutMs, timeoutMs: 60_000 },
    };
    const pending = ring.procs.map((p) =>
      p.send(command).catch((err): Record<string, unknown> => ({ exited: String(err) }))
    );
    await new Promise((r) => setTimeout(r, 1500));
    const stoppedAt = performance.now();
    ring.procs[2].kill("SIGSTOP");
    try {
      for (const rank of [0, 1]) {
        const reply = await pending[rank];
        const afterStopMs = performance.now() - stoppedAt;
        console.log(
          `rank ${rank} failed ${afterStopMs.toFixed(0)} ms after the stop: ${reply.error}`,
        );
        assert.equal(reply.failed, true, JSON.stringify(reply));
        assert.equal(reply.name, "AllReduceError");
        assert.ok(
          afterStopMs < 3 * chunkTimeoutMs + 1000,
          `rank ${rank} took ${afterStopMs} ms to fail`,
        );
      }
    } finally {
      ring.procs[2].kill("SIGKILL");
    }
  });
}
