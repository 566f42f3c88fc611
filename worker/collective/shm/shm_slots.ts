/**
 * The same-host fast path of the TCP data plane: payload slots in a shared segment
 * (`shared_memory.ts`). The sender copies a payload into a free slot and sends only the chunk's
 * fields on the socket; the receiver reads the payload where it lies and, once done with it, writes
 * the slot's index back on the socket, which frees the slot. A socket copies each byte twice (into
 * the kernel and out again) and runs TCP over it; a slot costs one copy. The socket stays: it
 * carries the hello with the token, the fields and the credits, and its closing still tells either
 * side that the other is gone.
 *
 * Segment layout: a 16-byte nonce at byte 0 (the receiver checks it, so whatever another host's or
 * another process namespace's /proc shows under the same path is never mistaken for the sender's
 * segment), slot i at `SLOT_BASE + i · slotBytes`.
 *
 * Registered buffers go one step further: a buffer made by {@linkcode sharedFloat32Array} lies in
 * a segment of its own (also with a nonce at byte 0) that the receiver maps too, so a
 * payload that is a view of it travels as its place in that segment and is not copied at all. The
 * ring all-reduce rewrites a region it sent only with a value derived from that very send, so
 * only after the receiver has read it; at the end of a collective the sender waits until the
 * receiver has credited every such payload, since the caller may then write the buffer again.
 *
 * Credits are varints: 0 for a payload read in place, 1 + the slot's index for a slot.
 */
import { payloadPool } from "../buffer_pool.ts";
import { SharedSegment } from "./shared_memory.ts";

const SLOT_BASE = 4096;
const NONCE_BYTES = 16;

/** Buffers from {@linkcode sharedFloat32Array}: where their memory is, for a neighbour to map. */
const registered = new WeakMap<ArrayBuffer, { path: string; nonce: Uint8Array }>();
const unmapWhenCollected = new FinalizationRegistry<() => void>((close) => close());

/**
 * A zeroed Float32Array of `length` values in memory that ring neighbours on this host read in
 * place: an fp32 all-reduce of it (or of a view of it) over the TCP data plane then sends no
 * payload bytes at all, only where they lie. Where shared memory is not to be had, an ordinary
 * Float32Array, which works the same, with payloads copied.
 */
export function sharedFloat32Array(length: number): Float32Array<ArrayBuffer> {
  let segment: SharedSegment;
  try {
    segment = SharedSegment.create(SLOT_BASE + length * 4);
  } catch {
    return new Float32Array(length); // not Linux, no FFI, out of memory
  }
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  segment.bytes.set(nonce);
  const memory = segment.bytes.buffer;
  registered.set(memory, { path: segment.path, nonce });
  unmapWhenCollected.register(memory, segment.closer());
  return new Float32Array(memory, SLOT_BASE, length);
}

/** {@linkcode sharedFloat32Array} for fp16 values (gradients cast to fp16 in the graph). */
export function sharedFloat16Array(length: number): Float16Array<ArrayBuffer> {
  const words = sharedFloat32Array(Math.ceil(length / 2));
  return new Float16Array(words.buffer, words.byteOffset, length);
}

/** Where `payload` lies when it is a view of a {@linkcode sharedFloat32Array}; else undefined. */
export function registeredRegion(
  payload: Uint8Array,
): { path: string; nonce: Uint8Array; offset: number } | undefined {
  const buffer = registered.get(payload.buffer as ArrayBuffer);
  return buffer && { ...buffer, offset: payload.byteOffset };
}

/** What the sender offers in its hello (see DataPlaneHello in proto/peer.proto). */
export interface SlotOffer {
  shm_path: string;
  shm_nonce: Uint8Array;
  shm_slots: number;
  shm_slot_bytes: number;
}

/** The sender's end: hands out free slots and takes them back as the receiver credits them. */
export class SlotSender {
  readonly offer: SlotOffer;
  #segment: SharedSegment;
  #free: number[];
  #waiting: { resolve(slot: number): void; reject(err: Error): void }[] = [];
  #closed: Error | undefined;

  private constructor(segment: SharedSegment, slots: number, slotBytes: number) {
    this.#segment = segment;
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    segment.bytes.set(nonce);
    this.offer = {
      shm_path: segment.path,
      shm_nonce: nonce,
      shm_slots: slots,
      shm_slot_bytes: slotBytes,
    };
  }

  /** A new segment of `slots` slots, or undefined where shared memory is not to be had. */
  static create(slots: number, slotBytes: number): SlotSender | undefined {
    try {
      return new SlotSender(SharedSegment.create(SLOT_BASE + slots * slotBytes), slots, slotBytes);
    } catch {
      return undefined; // not Linux, no FFI, out of memory: the socket carries the payloads
    }
  }

  /**
   * Copies `payload` into a free slot, once there is one, and returns the slot's index, which the
   * receiver owns until it credits it back. Rejects once closed.
   */
  async place(payload: Uint8Array): Promise<number> {
    const { shm_slot_bytes: slotBytes } = this.offer;
    if (payload.length > slotBytes) {
      throw new RangeError(`A ${payload.length}-byte payload exceeds the ${slotBytes}-byte slots`);
    }
    const slot = this.#free.pop() ?? await new Promise<number>((resolve, reject) => {
      if (this.#closed) reject(this.#closed);
      else this.#waiting.push({ resolve, reject });
    });
    if (this.#closed) throw this.#closed; // unmapped meanwhile
    this.#segment.bytes.set(payload, SLOT_BASE + slot * slotBytes);
    return slot;
  }

  /** The receiver is done with `slot`. */
  credit(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.offer.shm_slots) {
      throw new RangeError(`Credit for slot ${slot}, which does not exist`);
    }
    if (this.#free.includes(slot)) throw new RangeError(`Credit for slot ${slot}, which is free`);
    const next = this.#waiting.shift();
    if (next) next.resolve(slot);
    else this.#free.push(slot);
  }

  /** Fails every wait for a slot and unmaps the segment. */
  close(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
    this.#segment.close();
  }
}

/** The receiver's end: views of the slots and registered buffers the sender names, and credits. */
export class SlotReceiver {
  #segment: SharedSegment;
  #slots: number;
  #slotBytes: number;
  #lent = new Set<number>();
  /** The sender's registered buffers mapped so far, by path. */
  #buffers = new Map<string, SharedSegment>();
  /** Mappings replaced by a new buffer at the same path, kept until their views are released. */
  #retired: SharedSegment[] = [];
  /** Views of registered buffers not yet released. */
  #inPlace = 0;
  #credit: (credit: number) => void;
  #closing = false;

  private constructor(
    segment: SharedSegment,
    slots: number,
    slotBytes: number,
    credit: (credit: number) => void,
  ) {
    this.#segment = segment;
    this.#slots = slots;
    this.#slotBytes = slotBytes;
    this.#credit = credit;
  }

  /**
   * Maps the offered segment, or returns undefined when it cannot (another host, another
   * process namespace, no FFI): the socket then carries the payloads. `credit` writes a credit
   * (0 or 1 + a slot's index) back to the sender.
   */
  static accept(offer: SlotOffer, credit: (credit: number) => void): SlotReceiver | undefined {
    const { shm_path: path, shm_nonce: nonce, shm_slots: slots, shm_slot_bytes: slotBytes } = offer;
    if (slots < 1 || slotBytes < 1) return undefined;
    const segment = openVerified(path, nonce, SLOT_BASE + slots * slotBytes);
    return segment && new SlotReceiver(segment, slots, slotBytes, credit);
  }

  /**
   * The payload of `bytes` bytes in `slot`: a view of it, valid until released through
   * `payloadPool` (which credits the slot), or, when half the slots are already lent, a pooled
   * copy, and the slot is credited at once. The copy keeps the sender moving while this rank's
   * loop is busy elsewhere (every rank sends its first segment before it takes anything): without
   * it, ranks each waiting for a free slot on the next could wait on each other forever. Throws
   * when the sender names a slot that does not exist, is still lent, or cannot hold `bytes`.
   */
  payload(slot: number, bytes: number): Uint8Array<ArrayBuffer> {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#slots) {
      throw new RangeError(`Shared slot ${slot} does not exist (${this.#slots} slots)`);
    }
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > this.#slotBytes) {
      throw new RangeError(`A ${bytes}-byte payload does not fit a ${this.#slotBytes}-byte slot`);
    }
    if (this.#lent.has(slot)) throw new RangeError(`Shared slot ${slot} is still in use`);
    const view = new Uint8Array(
      this.#segment.bytes.buffer,
      SLOT_BASE + slot * this.#slotBytes,
      bytes,
    );
    if (2 * this.#lent.size >= this.#slots) {
      const copy = payloadPool.take(bytes);
      copy.set(view);
      this.#credit(slot + 1);
      return copy;
    }
    this.#lent.add(slot);
    payloadPool.track(view, () => {
      this.#lent.delete(slot);
      this.#returned(slot + 1);
    });
    return view;
  }

  /**
   * The payload of `bytes` bytes at byte `offset` of the sender's registered buffer at `path`
   * (mapped on first use, after its nonce is checked; a path whose nonce changed is a new buffer
   * and is mapped again): a view, valid until released through `payloadPool`, which credits it.
   * Throws for a buffer that cannot be verified or a range outside it.
   */
  inPlace(path: string, nonce: Uint8Array, offset: number, bytes: number): Uint8Array<ArrayBuffer> {
    let buffer = this.#buffers.get(path);
    if (!buffer || !holdsNonce(buffer, nonce)) {
      const mapped = openVerified(path, nonce);
      if (!mapped) throw new RangeError(`Cannot map the sender's buffer ${path}`);
      if (buffer) this.#retired.push(buffer);
      this.#buffers.set(path, buffer = mapped);
    }
    const size = buffer.bytes.length;
    if (
      !Number.isInteger(offset) || offset < SLOT_BASE || !(bytes >= 0 && offset + bytes <= size)
    ) {
      throw new RangeError(`Bytes [${offset}, ${offset + bytes}) lie outside ${path} (${size} B)`);
    }
    const view = new Uint8Array(buffer.bytes.buffer, offset, bytes);
    this.#inPlace++;
    payloadPool.track(view, () => {
      this.#inPlace--;
      this.#returned(0);
    });
    return view;
  }

  /** The connection is over: unmaps everything once no view of it is left in use. */
  close(): void {
    this.#closing = true;
    this.#unmapIfDone();
  }

  #returned(credit: number) {
    if (!this.#closing) this.#credit(credit);
    else this.#unmapIfDone();
  }

  #unmapIfDone() {
    if (!this.#closing || this.#lent.size > 0 || this.#inPlace > 0) return;
    this.#segment.close();
    for (const buffer of [...this.#buffers.values(), ...this.#retired]) buffer.close();
    this.#buffers.clear();
    this.#retired = [];
  }
}

/** Maps `path` read-only if its first bytes are `nonce`; undefined when it cannot. */
function openVerified(path: string, nonce: Uint8Array, length?: number): SharedSegment | undefined {
  let segment: SharedSegment;
  try {
    segment = SharedSegment.open(path, length);
  } catch {
    return undefined; // not such a path, gone, another namespace's, no FFI
  }
  if (holdsNonce(segment, nonce)) return segment;
  segment.close();
  return undefined;
}

/** Whether `segment` starts with `nonce` (16 bytes). */
function holdsNonce(segment: SharedSegment, nonce: Uint8Array): boolean {
  const head = segment.bytes;
  if (nonce.length !== NONCE_BYTES || head.length < NONCE_BYTES) return false;
  for (let i = 0; i < NONCE_BYTES; i++) if (head[i] !== nonce[i]) return false;
  return true;
}
