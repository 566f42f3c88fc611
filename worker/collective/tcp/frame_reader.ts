/**
 * Reads the data plane's length-prefixed frames (see `frame.ts`) off a socket, a large chunk's
 * payload straight into a pooled array of its own instead of through the read buffer.
 */
import { MAX_MESSAGE_BYTES } from "../../../proto/mod.ts";
import { payloadPool } from "../buffer_pool.ts";
import { type FrameLimits, scanFrame } from "./frame.ts";

/**
 * One received message: its bytes, valid until the next is read; or, for a chunk with a large
 * payload, the bytes before the payload field and the payload itself, read from the socket
 * straight into a pooled array (not copied out of the read buffer).
 */
export interface Frame {
  message: Uint8Array;
  payload?: Uint8Array<ArrayBuffer>;
}

/** Bytes the read buffer takes per read; a large payload's remainder bypasses it. */
const READ_BYTES = 64 * 1024;

const LIMITS: FrameLimits = {
  maxMessageBytes: MAX_MESSAGE_BYTES,
  // Payloads this large are read straight into their own array; smaller ones are copied.
  directPayloadBytes: 16 * 1024,
  maxPayloadBytes: payloadPool.capacity,
};

/** Yields each varint-length-prefixed message (see {@linkcode Frame}); refuses oversized ones. */
export async function* readFrames(conn: Deno.Conn): AsyncGenerator<Frame> {
  let buf = new Uint8Array(READ_BYTES);
  let start = 0; // first unparsed byte
  let end = 0; // one past the last byte read
  while (true) {
    let need = 1; // bytes the next frame needs from `start`, once known
    for (
      let frame = scanFrame(buf, start, end, LIMITS);;
      frame = scanFrame(buf, start, end, LIMITS)
    ) {
      if (frame.kind === "incomplete") {
        need = frame.need;
        break;
      }
      if (frame.kind === "whole") {
        yield { message: buf.subarray(frame.body, frame.stop) };
        start = frame.stop;
        continue;
      }
      const { payloadStart: at, payloadBytes: n } = frame;
      const payload = payloadPool.take(n);
      const have = Math.min(end - at, n);
      payload.set(buf.subarray(at, at + have));
      for (let got = have; got < n;) {
        const r = await conn.read(payload.subarray(got));
        if (r === null) return;
        got += r;
      }
      yield { message: buf.subarray(frame.body, frame.fieldStart), payload };
      start = at + have;
    }
    if (start === end) start = end = 0;
    if (start + need > buf.length || end === buf.length) {
      // Room for the whole pending frame: move it to the front, growing only if it cannot fit.
      const target = need > buf.length ? new Uint8Array(2 * need) : buf;
      target.set(buf.subarray(start, end));
      end -= start;
      start = 0;
      buf = target;
    }
    const n = await conn.read(buf.subarray(end, Math.min(buf.length, end + READ_BYTES)));
    if (n === null) return;
    end += n;
  }
}
