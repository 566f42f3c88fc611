import assert from "node:assert/strict";
import type { AllReduceChunk } from "../../../proto/mod.ts";
import { PreconditionError, ResourceExhaustedError } from "../../../proto/mod.ts";
import { ChunkMailbox } from "../../../worker/collective/mod.ts";

const id = { ringVersion: 0, step: 5, bucket: 0 };
const chunk = (round: number, chunkIndex: number, bytes = 4): AllReduceChunk => ({
  job_id: "job",
  ring_version: 0,
  step: 5,
  bucket: 0,
  phase: "RING_PHASE_REDUCE_SCATTER",
  round,
  segment: 0,
  chunk_index: chunkIndex,
  sender_rank: 0,
  dtype: "WIRE_DTYPE_FP32",
  element_count: bytes / 4,
  payload: new Uint8Array(bytes),
});
const slot = (round: number, chunkIndex: number) => ({
  phase: "RING_PHASE_REDUCE_SCATTER" as const,
  round,
  chunkIndex,
});

Deno.test("a chunk that arrives before its round waits in the mailbox; a take that comes first waits for it", async () => {
  const box = new ChunkMailbox("job");
  box.put(chunk(1, 0)); // round 1 arrives while the receiver is still in round 0
  const early = box.take(id, slot(0, 0), 1000);
  box.put(chunk(0, 0));
  assert.equal((await early).round, 0);
  assert.equal((await box.take(id, slot(1, 0), 1000)).round, 1);
  assert.equal(box.bufferedBytes, 0);
});

Deno.test("a take rejects at its deadline, on abort, and when the collective is failed", async () => {
  const box = new ChunkMailbox("job");
  await assert.rejects(box.take(id, slot(0, 0), 20), { name: "TimeoutError" });
  const ctl = new AbortController();
  const aborted = box.take(id, slot(0, 1), 5000, ctl.signal);
  ctl.abort(new Error("peer lost"));
  await assert.rejects(aborted, /peer lost/);
  const failing = box.take(id, slot(0, 2), 5000);
  box.fail(id, new Error("left neighbour cancelled"));
  await assert.rejects(failing, /left neighbour cancelled/);
  await assert.rejects(box.take(id, slot(0, 3), 5000), /left neighbour cancelled/);
});

Deno.test("the mailbox refuses other jobs, duplicates, late chunks of closed collectives, and overflow", () => {
  const box = new ChunkMailbox("job", { maxBufferedBytes: 8 });
  assert.throws(() => box.put({ ...chunk(0, 0), job_id: "other" }), PreconditionError);
  box.put(chunk(0, 0));
  assert.throws(() => box.put(chunk(0, 0)), PreconditionError);
  assert.throws(() => box.put(chunk(0, 1, 8)), ResourceExhaustedError);
  box.close(id);
  assert.equal(box.bufferedBytes, 0, "closing drops what was left");
  assert.throws(() => box.put(chunk(0, 2)), /already finished or aborted/);
});
