/**
 * The TCP data plane's frames, alone: what the sender writes is the wire format protobufjs defines,
 * and the receiver's scan finds each frame's bounds (and a large payload's) from any prefix.
 */
import assert from "node:assert/strict";
import { peerCodecs } from "../../../proto/mod.ts";
import {
  decodeCredits,
  encodeChunkHeader,
  encodeCredits,
  type FrameLimits,
  readVarint,
  scanFrame,
  trailingPayload,
  varintLength,
  writeVarint,
} from "../../../worker/collective/tcp/frame.ts";

const chunkType = peerCodecs.chunk.type;

function chunk(payloadBytes: number) {
  return {
    job_id: "job-1",
    ring_version: 3,
    step: 70_001,
    bucket: 2,
    phase: "RING_PHASE_ALL_GATHER",
    round: 1,
    segment: 4,
    chunk_index: 9,
    sender_rank: 5,
    dtype: "WIRE_DTYPE_FP32",
    element_count: payloadBytes / 4,
    payload: Uint8Array.from({ length: payloadBytes }, (_, i) => (i * 31) % 256),
  };
}

/** protobufjs's own length-delimited encoding of the whole message: the independent reference. */
const reference = (m: Record<string, unknown>) =>
  Uint8Array.from(chunkType.encodeDelimited(chunkType.fromObject(m)).finish());

/** A decoded chunk as plain data (protobufjs's Long and Buffer turned into comparable values). */
const decodeChunk = (bytes: Uint8Array) => {
  const m = chunkType.toObject(chunkType.decode(bytes), { longs: String, defaults: true });
  return { ...m, payload: Uint8Array.from(m.payload) } as Record<string, unknown> & {
    payload: Uint8Array;
  };
};

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

const limits: FrameLimits = {
  maxMessageBytes: 1 << 20,
  directPayloadBytes: 1024,
  maxPayloadBytes: 64 * 1024,
};

Deno.test("varints round-trip at every length up to 2^31, and a partial one reads as undefined", () => {
  for (const v of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 31]) {
    const out = new Uint8Array(8);
    const end = writeVarint(out, 1, v);
    assert.equal(end - 1, varintLength(v), `length of ${v}`);
    assert.deepEqual(readVarint(out, 1, end), [v, end], `${v}`);
    assert.equal(readVarint(out, 1, end - 1), undefined, `${v} cut short`);
  }
  assert.throws(
    () => readVarint(new Uint8Array(6).fill(0xff), 0, 6),
    /Malformed data-plane length prefix/,
  );
});

Deno.test("a chunk header followed by its payload is a length-prefixed frame protobufjs decodes to the chunk", () => {
  for (const bytes of [0, 4, 2048, 64 * 1024]) {
    const c = chunk(bytes);
    const wire = concat(encodeChunkHeader(c), c.payload);
    const [len, body] = readVarint(wire, 0, wire.length)!;
    assert.equal(body + len, wire.length, `${bytes} bytes: the prefix counts the whole message`);
    assert.deepEqual(decodeChunk(wire.subarray(body)), decodeChunk(reference(c).subarray(body)));
  }
  // With the shared-memory fields the frame is whole and carries no payload.
  const shared = encodeChunkHeader(chunk(4096), { shm_slot: 3 });
  const [, body] = readVarint(shared, 0, shared.length)!;
  const got = decodeChunk(shared.subarray(body));
  assert.equal(got.shm_slot, 3);
  assert.equal(got.payload.length, 0);
  assert.equal(got.element_count, 1024);
});

Deno.test("scanFrame splits off a large trailing payload and takes small messages whole", () => {
  const small = chunk(16);
  const large = chunk(8192);
  const wire = concat(reference(small), encodeChunkHeader(large), large.payload);

  const first = scanFrame(wire, 0, wire.length, limits);
  assert.equal(first.kind, "whole");
  if (first.kind !== "whole") return;
  const decoded = peerCodecs.chunk.decode(wire.subarray(first.body, first.stop)) as {
    payload: Uint8Array;
  };
  assert.deepEqual(decoded.payload, small.payload);

  const second = scanFrame(wire, first.stop, wire.length, limits);
  assert.equal(second.kind, "split");
  if (second.kind !== "split") return;
  assert.equal(second.payloadBytes, 8192);
  assert.deepEqual(wire.subarray(second.payloadStart), large.payload);
  const fields = peerCodecs.chunk.decode(wire.subarray(second.body, second.fieldStart)) as {
    step: { toString(): string };
    chunk_index: number;
  };
  assert.equal(String(fields.step), "70001");
  assert.equal(fields.chunk_index, 9);
});

Deno.test("scanFrame on every prefix of a frame asks for more bytes, never reads past what it has", () => {
  for (const bytes of [16, 8192]) {
    const c = chunk(bytes);
    const header = encodeChunkHeader(c);
    const wire = concat(header, c.payload);
    for (let end = 0; end < wire.length; end++) {
      const scan = scanFrame(wire, 0, end, limits);
      if (bytes > limits.directPayloadBytes && end >= header.length) {
        // The fields are in: the payload can be read apart, whatever part of it has arrived.
        assert.equal(scan.kind, "split", `${bytes} bytes, ${end} in`);
        continue;
      }
      assert.equal(scan.kind, "incomplete", `${bytes} bytes, ${end} in`);
      if (scan.kind !== "incomplete") continue;
      // Before the length prefix is whole, one more byte; after it, more than it has.
      const prefixed = readVarint(wire, 0, end) !== undefined;
      assert.ok(prefixed ? scan.need > end : scan.need >= 1, `need ${scan.need} at ${end}`);
    }
  }
});

Deno.test("a large payload is split off behind a step past 2^35, whose varint is 6 bytes long", () => {
  const c = { ...chunk(8192), step: 2 ** 40 + 3 };
  const wire = concat(encodeChunkHeader(c), c.payload);
  const scan = scanFrame(wire, 0, wire.length, limits);
  assert.equal(scan.kind, "split");
  if (scan.kind === "split") assert.deepEqual(wire.subarray(scan.payloadStart), c.payload);
});

Deno.test("scanFrame refuses a length prefix past the size limit", () => {
  const prefix = new Uint8Array(5);
  const end = writeVarint(prefix, 0, limits.maxMessageBytes + 1);
  assert.throws(() => scanFrame(prefix, 0, end, limits), /exceeds 1048576/);
});

Deno.test("trailingPayload tells a payload it can split off from a message laid out otherwise", () => {
  const c = chunk(4096);
  const at = (m: Uint8Array, maxPayloadBytes = limits.maxPayloadBytes) => {
    const [len, body] = readVarint(m, 0, m.length)!;
    return trailingPayload(m, body, body + len, m.length, maxPayloadBytes);
  };
  const found = at(reference(c));
  assert.equal(found.kind, "found");
  assert.deepEqual(at(reference(c), 4095), { kind: "absent" }, "larger than an array holds");
  // A field after the payload (protobufjs writes fields in number order; shm_slot is 13).
  assert.deepEqual(at(reference({ ...c, shm_slot: 2 })), { kind: "absent" }, "not the last field");
  // A field of a wire type no chunk has (3, a deprecated group start).
  assert.deepEqual(at(concat(new Uint8Array([2, (1 << 3) | 3, 0]))), { kind: "absent" });
  const whole = reference(c);
  const [, body] = readVarint(whole, 0, whole.length)!;
  assert.deepEqual(
    trailingPayload(whole, body, whole.length, body + 3, limits.maxPayloadBytes),
    { kind: "incomplete" },
    "only three bytes of the fields in",
  );
});

Deno.test("credits round-trip as varints, a partial last one left for the next read", () => {
  const credits = [0, 1, 17, 200, 0, 16_384];
  const bytes = encodeCredits(credits);
  const got: number[] = [];
  const stop = decodeCredits(bytes, 0, bytes.length - 1, (c) => got.push(c));
  assert.deepEqual(got, credits.slice(0, -1));
  assert.equal(decodeCredits(bytes, stop, bytes.length, (c) => got.push(c)), bytes.length);
  assert.deepEqual(got, credits);
});
