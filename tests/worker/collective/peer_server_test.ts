/**
 * The peer server in a real worker process refuses bad calls with the right status and keeps
 * serving afterwards.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { peerCodecs, peerService, tokenMetadata } from "../../../proto/mod.ts";
import { spawnProbeRing } from "../../../worker/collective/mod.ts";
import { sharedMemoryAvailable } from "../../../worker/collective/shm/shared_memory.ts";
import { SlotSender } from "../../../worker/collective/shm/shm_slots.ts";

const TOKEN = "probe-token";
const path = peerService.SendChunks.path;

/**
 * Streams raw message bytes to SendChunks and returns the final status. A connection that was
 * never established is tried again (the request never reached the server): under load, Deno's
 * HTTP/2 server now and then resets a new connection right after refusing a garbage stream.
 */
async function sendRaw(
  address: string,
  messages: Uint8Array[],
  metadata: grpc.Metadata,
): Promise<{ code: grpc.status; details: string }> {
  for (let attempt = 1;; attempt++) {
    const got = await sendRawOnce(address, messages, metadata);
    const neverConnected = got.code === grpc.status.UNAVAILABLE &&
      got.details.startsWith("No connection established");
    if (!neverConnected || attempt === 3) return got;
  }
}

function sendRawOnce(
  address: string,
  messages: Uint8Array[],
  metadata: grpc.Metadata,
): Promise<{ code: grpc.status; details: string }> {
  // No send limit on this client: the server's own receive limit must do the refusing. Its own
  // connection too, so a retry does not reuse one that is being torn down.
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": -1,
    "grpc.use_local_subchannel_pool": 1,
  });
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      metadata,
      { deadline: Date.now() + 5000 },
      (err) => {
        client.close();
        resolve(
          err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: "" },
        );
      },
    );
    call.on("error", () => {});
    for (const m of messages) call.write(m);
    call.end();
  });
}

const goodChunk = {
  job_id: "probe-job",
  ring_version: 7,
  step: 1,
  phase: "RING_PHASE_REDUCE_SCATTER",
  dtype: "WIRE_DTYPE_FP32",
  element_count: 2,
  payload: new Uint8Array(8),
};
const encode = (m: Record<string, unknown>) => peerService.SendChunks.requestSerialize(m);

Deno.test("the peer server refuses bad calls with a status and keeps serving", async () => {
  await using ring = await spawnProbeRing(2);
  const address = ring.procs[1].address;
  const cases: [string, Uint8Array[], grpc.Metadata, grpc.status][] = [
    ["no token", [encode(goodChunk)], new grpc.Metadata(), grpc.status.UNAUTHENTICATED],
    [
      "wrong token",
      [encode(goodChunk)],
      tokenMetadata("not-the-token"),
      grpc.status.UNAUTHENTICATED,
    ],
    [
      "garbage bytes",
      [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x42])],
      tokenMetadata(TOKEN),
      grpc.status.INVALID_ARGUMENT,
    ],
    ["empty message", [new Uint8Array(0)], tokenMetadata(TOKEN), grpc.status.INVALID_ARGUMENT],
    [
      "payload length not matching element_count",
      [encode({ ...goodChunk, element_count: 3 })],
      tokenMetadata(TOKEN),
      grpc.status.INVALID_ARGUMENT,
    ],
    [
      "unknown enum value",
      [encode({ ...goodChunk, dtype: 9 })],
      tokenMetadata(TOKEN),
      grpc.status.INVALID_ARGUMENT,
    ],
    [
      "another job",
      [encode({ ...goodChunk, job_id: "other-job" })],
      tokenMetadata(TOKEN),
      grpc.status.FAILED_PRECONDITION,
    ],
    [
      "duplicate chunk",
      [encode(goodChunk), encode(goodChunk)],
      tokenMetadata(TOKEN),
      grpc.status.FAILED_PRECONDITION,
    ],
    [
      "message over the size limit",
      [encode({ ...goodChunk, element_count: 1 << 20, payload: new Uint8Array(4 << 20) })],
      tokenMetadata(TOKEN),
      grpc.status.RESOURCE_EXHAUSTED,
    ],
  ];
  for (const [name, messages, metadata, want] of cases) {
    const got = await sendRaw(address, messages, metadata);
    console.log(`${name}: ${grpc.status[got.code]}: ${got.details}`);
    assert.equal(grpc.status[got.code], grpc.status[want], `${name}: ${got.details}`);
    assert.ok(got.details.length > 0, `${name}: status without a message`);
  }
  // Still serving: a real all-reduce across both ranks succeeds.
  const replies = await ring.all(() => ({ cmd: "allreduce", length: 999, options: { step: 3 } }));
  for (const reply of replies) assert.equal(reply.maxAbsErr, 0, JSON.stringify(reply));
});

Deno.test("a rank presenting a wrong token cannot join the all-reduce: UNAUTHENTICATED", async () => {
  await using ring = await spawnProbeRing(2);
  await ring.procs[0].send({ cmd: "connect", right: ring.procs[1].address, token: "wrong" });
  const replies = await ring.all(() => ({
    cmd: "allreduce",
    length: 100,
    options: { step: 1, chunkTimeoutMs: 2000 },
  }));
  assert.equal(replies[0].failed, true);
  assert.match(String(replies[0].error), /UNAUTHENTICATED: Wrong job token/);
  assert.equal(replies[1].failed, true, "rank 1 must not finish without rank 0's chunks");
});

/** Opens a raw socket to a TCP data-plane server, sends `bytes`, returns what comes back. */
async function rawTcp(address: string, bytes: Uint8Array[]): Promise<number[]> {
  const [hostname, port] = address.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const got: number[] = [];
  try {
    for (const b of bytes) await conn.write(b);
    const buf = new Uint8Array(16);
    while (true) {
      const n = await conn.read(buf); // the server closes the connection on a bad message
      if (n === null) break;
      got.push(...buf.subarray(0, n));
    }
  } catch {
    // reset by the server: as good as closed
  } finally {
    conn.close();
  }
  return got;
}

const delimited = (type: typeof peerCodecs.hello, m: Record<string, unknown>) =>
  type.type.encodeDelimited(type.type.fromObject(m)).finish();

Deno.test("the TCP data plane refuses a wrong token and garbage by closing, and keeps serving", async () => {
  await using ring = await spawnProbeRing(2, { transport: "tcp" });
  const address = ring.procs[1].address;
  const hello = (token: string) =>
    delimited(peerCodecs.hello, { job_id: "probe-job", token, sender_rank: 0 });
  assert.deepEqual(await rawTcp(address, [hello("wrong")]), [0], "wrong token: answered 0");
  assert.deepEqual(
    await rawTcp(address, [delimited(peerCodecs.hello, { job_id: "x", token: TOKEN })]),
    [0],
    "another job: answered 0",
  );
  assert.deepEqual(await rawTcp(address, [new Uint8Array([3, 0xff, 0xff, 0xff])]), [0]);
  assert.deepEqual(
    await rawTcp(address, [hello(TOKEN), new Uint8Array([5, 0xff, 0xff, 0xff, 0xff, 0x0f])]),
    [1],
    "garbage after a good hello: admitted, then closed",
  );
  assert.deepEqual(
    await rawTcp(address, [hello(TOKEN), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])]),
    [1],
    "a length prefix past the size limit: closed",
  );
  const bad = delimited(peerCodecs.chunk, { ...goodChunk, element_count: 3 });
  assert.deepEqual(await rawTcp(address, [hello(TOKEN), bad]), [1], "invalid chunk: closed");
  if (sharedMemoryAvailable()) {
    // Shared segments: an offer the receiver cannot verify is declined (answer 1, not 2), and a
    // chunk that names a slot then, or a slot that does not exist, closes the connection.
    const inSlot = (slot: number) =>
      delimited(peerCodecs.chunk, { ...goodChunk, payload: new Uint8Array(0), shm_slot: slot });
    const offer = (o: Record<string, unknown>) =>
      delimited(peerCodecs.hello, { job_id: "probe-job", token: TOKEN, sender_rank: 0, ...o });
    const sender = SlotSender.create(2, 4096)!;
    try {
      const forged = { ...sender.offer, shm_path: "/etc/passwd" };
      assert.deepEqual(await rawTcp(address, [offer(forged), inSlot(1)]), [1], "forged path");
      const wrongNonce = { ...sender.offer, shm_nonce: new Uint8Array(16) };
      assert.deepEqual(await rawTcp(address, [offer(wrongNonce), inSlot(1)]), [1], "wrong nonce");
      assert.deepEqual(
        await rawTcp(address, [offer({ ...sender.offer }), inSlot(3)]),
        [2],
        "no slot 2",
      );
      const inFile = delimited(peerCodecs.chunk, {
        ...goodChunk,
        payload: new Uint8Array(0),
        shm_buffer: "/etc/passwd",
        shm_buffer_nonce: new Uint8Array(16),
        shm_offset: 4096,
      });
      assert.deepEqual(await rawTcp(address, [offer({ ...sender.offer }), inFile]), [2], "a file");
    } finally {
      sender.close(new Error("test over"));
    }
  }
  // Still serving.
  const replies = await ring.all(() => ({ cmd: "allreduce", length: 999, options: { step: 3 } }));
  for (const reply of replies) assert.equal(reply.maxAbsErr, 0, JSON.stringify(reply));
  // And a rank with the wrong token cannot join.
  await ring.procs[0].send({ cmd: "connect", right: ring.procs[1].address, token: "wrong" });
  const refused = await ring.all(() => ({
    cmd: "allreduce",
    length: 100,
    options: { step: 4, chunkTimeoutMs: 2000 },
  }));
  assert.equal(refused[0].failed, true);
  assert.match(String(refused[0].error), /refused this job's token/);
  assert.equal(refused[1].failed, true);
});
