/**
 * The TCP data plane's wire format, as pure functions over byte arrays (no sockets here).
 *
 * A connection carries `AllReduceChunk` messages of `proto/peer.proto`, each prefixed with its
 * varint length. It opens with a `DataPlaneHello` (job and token), framed the same way; the server
 * answers one byte ({@linkcode HelloAnswer}). When a shared segment is in use the receiver writes
 * credits back on the same socket, each a varint: 1 + the index of a slot it is done with, or 0
 * for a payload read in place from a registered buffer.
 *
 * A sender writes a chunk as a header ({@linkcode encodeChunkHeader}) followed by the payload's own
 * bytes, so the payload is never copied into a frame. A receiver finds where a large payload starts
 * ({@linkcode scanFrame}) and reads it from the socket straight into an array of its own.
 *
 * @example
 * ```ts
 * const header = encodeChunkHeader(chunk);
 * const frame = scanFrame(bytes, 0, bytes.length, limits);
 * if (frame.kind === "split") payload = bytes.subarray(frame.payloadStart);
 * ```
 */
import { peerCodecs, UndecodableMessage } from "../../../proto/mod.ts";
import type { OutgoingChunk } from "../chunk_sink.ts";

/** The server's one-byte answer to a hello. */
export const HelloAnswer = {
  /** Refused (wrong token or job); the server closes the connection. */
  refused: 0,
  /** Admitted; payloads travel on the socket. */
  admitted: 1,
  /** Admitted, and the offered shared segment is mapped: payloads travel through it. */
  admittedShared: 2,
} as const;

/** A credit for a payload read in place from a registered buffer (not from a slot). */
export const IN_PLACE_CREDIT = 0;

type Codec = (typeof peerCodecs)["chunk"];

const PAYLOAD_FIELD = 12; // AllReduceChunk.payload
const PAYLOAD_TAG = (PAYLOAD_FIELD << 3) | 2; // length-delimited

/**
 * A chunk's frame up to its payload: the varint length of the whole message, protobufjs's
 * encoding of the other fields, then the payload field's tag and length, so that the payload's
 * own bytes, written next, complete the message as the wire format defines it. With `shared`
 * (the fields that say where in shared memory the payload lies), the whole frame, payload absent.
 */
export function encodeChunkHeader(
  chunk: OutgoingChunk,
  shared?: Record<string, unknown>,
): Uint8Array {
  const type = peerCodecs.chunk.type;
  const empty = new Uint8Array(0);
  if (shared) {
    return type.encodeDelimited(type.fromObject({ ...chunk, payload: empty, ...shared })).finish();
  }
  const fields = type.encode(type.fromObject({ ...chunk, payload: empty })).finish();
  const n = chunk.payload.length;
  const bodyLength = fields.length + 1 + varintLength(n) + n;
  const out = new Uint8Array(varintLength(bodyLength) + bodyLength - n);
  let p = writeVarint(out, 0, bodyLength);
  out.set(fields, p);
  p += fields.length;
  out[p++] = PAYLOAD_TAG;
  writeVarint(out, p, n);
  return out;
}

/** `message` as one length-prefixed frame (the hello, or a chunk whose payload travels in it). */
export function encodeDelimited(codec: Codec, message: Record<string, unknown>): Uint8Array {
  return codec.type.encodeDelimited(codec.type.fromObject(message)).finish();
}

/** The decoded message, or an {@linkcode UndecodableMessage} that validation then refuses. */
export function decodeMessage(codec: Codec, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    return new UndecodableMessage(err instanceof Error ? err.message : String(err));
  }
}

/** Credits as consecutive varints. */
export function encodeCredits(credits: readonly number[]): Uint8Array {
  const out = new Uint8Array(credits.length * 5);
  let p = 0;
  for (const credit of credits) p = writeVarint(out, p, credit);
  return out.subarray(0, p);
}

/**
 * Calls `onCredit` for each whole varint in `buf[start, end)`; returns the index after the last
 * one, where a credit that has not fully arrived begins.
 */
export function decodeCredits(
  buf: Uint8Array,
  start: number,
  end: number,
  onCredit: (credit: number) => void,
): number {
  let p = start;
  for (let v = readVarint(buf, p, end); v; v = readVarint(buf, p, end)) {
    onCredit(v[0]);
    p = v[1];
  }
  return p;
}

/** What a receiver accepts, and from which size on it reads a payload apart from its fields. */
export interface FrameLimits {
  /** Largest message; a longer length prefix is an error. */
  maxMessageBytes: number;
  /** Messages longer than this are checked for a trailing payload to read on its own. */
  directPayloadBytes: number;
  /** Largest payload that can be read on its own (the receiver's array size). */
  maxPayloadBytes: number;
}

/**
 * The frame at `buf[start, end)`, of which the bytes before `end` have arrived:
 * - `incomplete`: more bytes are needed; `need` counts the bytes from `start` to have before
 *   looking again (the whole frame when its length is known and no payload can be split off).
 * - `whole`: the message is `buf[body, stop)`.
 * - `split`: a large message whose last field is the payload: its other fields are
 *   `buf[body, fieldStart)`, its `payloadBytes` bytes start at `payloadStart` (maybe past `end`).
 */
export type FrameScan =
  | { kind: "incomplete"; need: number }
  | { kind: "whole"; body: number; stop: number }
  | {
    kind: "split";
    body: number;
    fieldStart: number;
    payloadStart: number;
    payloadBytes: number;
  };

/** Finds the next frame's bounds (see {@linkcode FrameScan}); throws on an oversized one. */
export function scanFrame(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: FrameLimits,
): FrameScan {
  const head = readVarint(buf, start, end);
  if (!head) return { kind: "incomplete", need: 1 };
  const [len, body] = head;
  if (len > limits.maxMessageBytes) {
    throw new RangeError(`Data-plane message of ${len} bytes exceeds ${limits.maxMessageBytes}`);
  }
  if (len > limits.directPayloadBytes) {
    const trailing = trailingPayload(buf, body, body + len, end, limits.maxPayloadBytes);
    // The fields before the payload are not all in yet.
    if (trailing.kind === "incomplete") return { kind: "incomplete", need: end - start + 1 };
    if (trailing.kind === "found") {
      const { fieldStart, payloadStart, payloadBytes } = trailing;
      return { kind: "split", body, fieldStart, payloadStart, payloadBytes };
    }
  }
  if (end - body < len) return { kind: "incomplete", need: body - start + len };
  return { kind: "whole", body, stop: body + len };
}

/**
 * Where a message's payload lies, when it is the message's last field:
 * - `found`: the payload field starts at `fieldStart`, its `payloadBytes` bytes at `payloadStart`;
 * - `absent`: the message is not laid out so, or its payload is larger than `maxPayloadBytes`
 *   (it is then read whole and decoded as usual);
 * - `incomplete`: the fields before the payload have not all arrived.
 */
export type TrailingPayload =
  | { kind: "found"; fieldStart: number; payloadStart: number; payloadBytes: number }
  | { kind: "absent" }
  | { kind: "incomplete" };

const ABSENT: TrailingPayload = { kind: "absent" };
const INCOMPLETE: TrailingPayload = { kind: "incomplete" };

/** For a message in `buf[body, stop)` of which the bytes before `end` have arrived. */
export function trailingPayload(
  buf: Uint8Array,
  body: number,
  stop: number,
  end: number,
  maxPayloadBytes: number,
): TrailingPayload {
  const available = Math.min(end, stop);
  for (let p = body; p < stop;) {
    const field = p;
    const key = readVarint(buf, p, available);
    if (!key) return INCOMPLETE;
    p = key[1];
    const wire = key[0] % 8;
    if (wire === 0) {
      const after = skipVarint(buf, p, available);
      if (after === undefined) return INCOMPLETE;
      p = after;
    } else if (wire === 2) {
      const l = readVarint(buf, p, available);
      if (!l) return INCOMPLETE;
      const [n, at] = l;
      if (Math.floor(key[0] / 8) === PAYLOAD_FIELD && at + n === stop) {
        return n <= maxPayloadBytes
          ? { kind: "found", fieldStart: field, payloadStart: at, payloadBytes: n }
          : ABSENT;
      }
      p = at + n;
      if (p > available) return p > stop ? ABSENT : INCOMPLETE;
    } else if (wire === 1 || wire === 5) {
      p += wire === 1 ? 8 : 4;
    } else {
      return ABSENT;
    }
  }
  return ABSENT;
}

/** Bytes the varint encoding of `v` takes. */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` as a varint at `out[p]`; returns the index after it. */
export function writeVarint(out: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}

/**
 * The index after a field's varint value at `p` (up to 10 bytes: a uint64 such as `step` may be
 * longer than any length), or undefined when it is not all there yet.
 */
function skipVarint(buf: Uint8Array, p: number, end: number): number | undefined {
  for (let i = 0; p < end; i++) {
    if (i === 10) throw new RangeError("Malformed data-plane field");
    if (buf[p++] < 0x80) return p;
  }
  return undefined;
}

/** A varint at `p` as [value, index after it], or undefined when it is not all there yet. */
export function readVarint(buf: Uint8Array, p: number, end: number): [number, number] | undefined {
  let value = 0;
  for (let shift = 0; p < end; shift += 7) {
    if (shift > 28) throw new RangeError("Malformed data-plane length prefix");
    const b = buf[p++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, p];
  }
  return undefined;
}
