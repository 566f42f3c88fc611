/**
 * The buffer an all-reduce sums in place, and how its elements travel: what the ring loop sends
 * for a range of elements, and how it adds or copies what arrives.
 *
 * An fp32 buffer travels as itself or converted per chunk to a 16-bit wire format. An fp16 buffer
 * (gradients the train-step graph already cast to fp16) travels as its own bytes, with no
 * conversion on sending or in the all-gather: only the reduce-scatter's adds convert, summing two
 * fp16 values in fp32 and storing the sum as fp16, as NCCL does for half-precision tensors.
 *
 * @example
 * ```ts
 * const elements = reduceBuffer(new Float16Array(grads16), "fp16");
 * const payload = elements.encode(0, 1024); // a view of the buffer's bytes
 * ```
 */
import { payloadPool } from "./buffer_pool.ts";
import { addFp16Into } from "./fp16_sum.ts";
import {
  accumulateWire,
  copyWire,
  decodeView,
  encodeWire,
  roundToWire,
  WIRE_BYTES,
  type WireFormat,
} from "./wire_dtype.ts";

/** What the ring loop does with a range [start, end) of the buffer it reduces. */
export interface ReduceBuffer {
  readonly length: number;
  readonly wire: WireFormat;
  /**
   * The bytes to send: a view of the buffer when it is already in the wire format (the
   * transport may read it until written: see `ringAllReduce` for why that is safe), else a
   * pooled array that the transport hands back once written.
   */
  encode(start: number, end: number): Uint8Array;
  /** Adds a received payload (in fp32) into the range. */
  add(start: number, end: number, payload: Uint8Array): void;
  /** Overwrites the range with a received payload. */
  copy(start: number, end: number, payload: Uint8Array): void;
  /**
   * The owner's last touch of a finished range: divided by `divisor`, and held exactly as its
   * peers will decode it.
   */
  finish(start: number, end: number, divisor: number): void;
}

/** The buffer with its wire format; an fp16 buffer travels only as fp16. */
export function reduceBuffer(buffer: Float32Array | Float16Array, wire: WireFormat): ReduceBuffer {
  if (buffer instanceof Float32Array) return new Fp32Buffer(buffer, wire);
  if (wire !== "fp16") {
    throw new RangeError(`An fp16 buffer travels as fp16 on the wire, not as "${wire}"`);
  }
  return new Fp16Buffer(buffer);
}

class Fp32Buffer implements ReduceBuffer {
  constructor(readonly buffer: Float32Array, readonly wire: WireFormat) {}

  get length(): number {
    return this.buffer.length;
  }

  encode(start: number, end: number): Uint8Array {
    const view = this.buffer.subarray(start, end);
    if (this.wire === "fp32") return encodeWire(view, "fp32");
    return encodeWire(
      view,
      this.wire,
      payloadPool.take(view.length * WIRE_BYTES[this.wire]).buffer,
    );
  }

  add(start: number, end: number, payload: Uint8Array): void {
    accumulateWire(this.buffer.subarray(start, end), payload, this.wire);
  }

  copy(start: number, end: number, payload: Uint8Array): void {
    copyWire(this.buffer.subarray(start, end), payload, this.wire);
  }

  finish(start: number, end: number, divisor: number): void {
    const view = this.buffer.subarray(start, end);
    if (divisor !== 1) { for (let i = 0; i < view.length; i++) view[i] /= divisor; }
    roundToWire(view, this.wire);
  }
}

class Fp16Buffer implements ReduceBuffer {
  readonly wire = "fp16";
  constructor(readonly buffer: Float16Array) {}

  get length(): number {
    return this.buffer.length;
  }

  encode(start: number, end: number): Uint8Array {
    const view = this.buffer.subarray(start, end);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }

  add(start: number, end: number, payload: Uint8Array): void {
    const view = this.buffer.subarray(start, end);
    addFp16Into(view, decodeView(payload, "fp16", view.length) as Float16Array);
  }

  copy(start: number, end: number, payload: Uint8Array): void {
    const view = this.buffer.subarray(start, end);
    if (payload.length !== view.byteLength) {
      throw new RangeError(
        `Wire payload of ${payload.length} bytes does not hold ${view.length} fp16`,
      );
    }
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(payload);
  }

  finish(start: number, end: number, divisor: number): void {
    if (divisor === 1) return;
    const view = this.buffer.subarray(start, end);
    const scaled = fp32Scratch(view.length);
    for (let i = 0; i < view.length; i++) scaled[i] = view[i] / divisor;
    view.set(scaled);
  }
}

/** A reused fp32 array for sums on their way into an fp16 buffer. */
let scratch = new Float32Array(0);

function fp32Scratch(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch.subarray(0, length);
}
