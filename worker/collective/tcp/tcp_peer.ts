/**
 * The TCP data plane: the same `AllReduceChunk` messages as the gRPC peer service, each prefixed
 * with its varint length, on one plain socket per neighbour. It exists because HTTP/2 under Deno
 * moves bytes an order of magnitude slower than a socket (docs/allreduce.md); admission, validation,
 * mailboxes and deadlines are the same as on the gRPC path.
 *
 * A connection opens with a `DataPlaneHello` (job and token); the server answers one byte, 1 to
 * admit, 0 to refuse (then closes). A message that fails to decode or validate closes the
 * connection, and the collective it belonged to fails on this side at once.
 *
 * @example
 * ```ts
 * const server = await startTcpPeerServer({ host: "127.0.0.1", port: 0, token, mailbox });
 * const right = new TcpPeerClient(rightAddress, { jobId, token, rank });
 * await ringAllReduce(grads, { ...ring, right }, { step });
 * ```
 */
import {
  AllReduceChunk,
  BYTES_PER_ELEMENT,
  DataPlaneHello,
  MAX_CHUNK_BYTES,
  MAX_MESSAGE_BYTES,
  parseMessage,
  peerCodecs,
  tokensEqual,
  UnauthenticatedError,
  UnavailableError,
  UndecodableMessage,
  type WireDtype,
} from "../../../proto/mod.ts";
import { type Logger, silentLogger } from "../../../model/log.ts";
import { payloadPool } from "../buffer_pool.ts";
import type { ChunkMailbox, CollectiveId } from "../chunk_mailbox.ts";
import type { ChunkSink, ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "../chunk_sink.ts";
import { withTimeout } from "../grpc/peer_client.ts";
import { registeredRegion, SlotReceiver, SlotSender } from "../shm/shm_slots.ts";

const HELLO_TIMEOUT_MS = 5000;
/** Slots of a shared segment (each holds the largest chunk, so 32 MiB in all). */
const SHARED_SLOTS = 16;

/** A running TCP data-plane server. */
export interface TcpPeerServer {
  readonly address: string;
  readonly port: number;
  close(): void;
}

/** Listens for chunk connections and files their chunks in `mailbox`. */
export function startTcpPeerServer(options: {
  host: string;
  port: number;
  token: string;
  mailbox: ChunkMailbox;
  logger?: Logger;
}): TcpPeerServer {
  const logger = options.logger ?? silentLogger;
  const listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
  const conns = new Set<Deno.TcpConn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      serveConnection(conn, options.mailbox, options.token, logger)
        .catch((err) => logger.warn("data-plane connection ended", { error: String(err) }))
        .finally(() => {
          conns.delete(conn);
          closeQuietly(conn);
        });
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    address: `${options.host}:${port}`,
    port,
    close() {
      closeQuietly(listener);
      for (const c of conns) closeQuietly(c);
    },
  };
}

async function serveConnection(
  conn: Deno.TcpConn,
  mailbox: ChunkMailbox,
  token: string,
  logger: Logger,
): Promise<void> {
  conn.setNoDelay(true);
  const frames = readFrames(conn);
  const first = await withTimeout(frames.next(), HELLO_TIMEOUT_MS, "No hello within 5 s");
  if (first.done) return;
  let hello: DataPlaneHello;
  try {
    const message = decode(peerCodecs.hello, first.value.message);
    hello = parseMessage(DataPlaneHello, message, "DataPlaneHello");
    if (!tokensEqual(hello.token, token)) throw new UnauthenticatedError("Wrong job token");
    if (hello.job_id !== mailbox.jobId) throw new UnauthenticatedError(`Not job "${hello.job_id}"`);
  } catch (err) {
    await conn.write(new Uint8Array([0])).catch(() => {});
    throw err;
  }
  // A sender on this host that offers shared memory gets it; whether to offer is the sender's call.
  const slots = hello.shm_path
    ? SlotReceiver.accept(hello, new CreditWriter(conn).push)
    : undefined;
  await conn.write(new Uint8Array([slots ? 2 : 1]));
  let current: CollectiveId | undefined;
  try {
    for await (const frame of frames) {
      const message = decode(peerCodecs.chunk, frame.message) as ReceivedChunk;
      // Whether the payload lies outside the read buffer (pooled, or shared memory) and need not be
      // copied out of it.
      let detached = !!frame.payload;
      if (!(message instanceof UndecodableMessage)) {
        if (frame.payload) message.payload = frame.payload;
        else if (message.shm_slot || message.shm_buffer) {
          if (!slots) throw new RangeError("A chunk names shared memory on a plain connection");
          const bytes = message.element_count * (BYTES_PER_ELEMENT[message.dtype] ?? NaN);
          message.payload = message.shm_slot
            ? slots.payload(message.shm_slot - 1, bytes)
            : slots.inPlace(
              message.shm_buffer,
              message.shm_buffer_nonce,
              message.shm_offset,
              bytes,
            );
          detached = true;
        }
      }
      let chunk: AllReduceChunk;
      try {
        chunk = parseMessage(AllReduceChunk, message, "AllReduceChunk");
      } catch (err) {
        if (detached) payloadPool.release(message.payload);
        throw err;
      }
      if (!detached) {
        // A small chunk's payload is a view of the read buffer, reused by the next read: it is
        // copied out now (validated, so not oversized) into a pooled, hence aligned, array the
        // adding loop can view as floats.
        const copy = payloadPool.take(chunk.payload.length);
        copy.set(chunk.payload);
        chunk.payload = copy;
      }
      current = { ringVersion: chunk.ring_version, step: chunk.step, bucket: chunk.bucket };
      try {
        mailbox.put(chunk);
      } catch (err) {
        payloadPool.release(chunk.payload);
        throw err;
      }
    }
  } catch (err) {
    logger.warn("closing data-plane connection", { rank: hello.sender_rank, error: String(err) });
    throw err;
  } finally {
    // The sender is gone or misbehaved: whoever waits on its chunks learns now, not at a deadline.
    const gone = new UnavailableError(
      `Left neighbour (rank ${hello.sender_rank}) closed its data connection`,
    );
    if (current && !mailbox.isClosed(current)) mailbox.fail(current, gone);
    else if (current) mailbox.failWaiting(current.ringVersion, gone);
    slots?.close();
  }
}

/** A decoded chunk before validation; `shm_slot` is 1 + a shared slot, or 0. */
type ReceivedChunk = {
  payload: Uint8Array;
  shm_slot: number;
  shm_buffer: string;
  shm_buffer_nonce: Uint8Array;
  shm_offset: number;
  element_count: number;
  dtype: WireDtype;
};

/** Writes credits back to their sender, as varints, batched while a write is out. */
class CreditWriter {
  #conn: Deno.Conn;
  #pending: number[] = [];
  #writing = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  push = (credit: number): void => {
    this.#pending.push(credit);
    if (!this.#writing) this.#flush();
  };

  async #flush() {
    this.#writing = true;
    try {
      while (this.#pending.length) {
        const credits = this.#pending.splice(0);
        const out = new Uint8Array(credits.length * 5);
        let p = 0;
        for (const credit of credits) p = writeVarint(out, p, credit);
        await writeAll(this.#conn, out.subarray(0, p));
      }
    } catch {
      // the connection is gone; so is the sender's segment
    } finally {
      this.#writing = false;
    }
  }
}

/** An open data connection, with its shared segment when the receiver mapped one. */
interface Link {
  conn: Deno.Conn;
  slots?: SlotSender;
  /** Payloads sent as places in a registered buffer that the receiver has not credited yet. */
  inPlace: Outstanding;
}

/** A count of payloads out, and who waits for it to reach zero. */
class Outstanding {
  #count = 0;
  #waiting: { resolve(): void; reject(err: Error): void }[] = [];
  #failed: Error | undefined;

  add(): void {
    this.#count++;
  }

  done(): void {
    if (this.#count === 0) throw new RangeError("A credit for a payload that is not out");
    if (--this.#count === 0) { for (const w of this.#waiting.splice(0)) w.resolve(); }
  }

  /** Resolves once none is out; rejects if the connection fails first. */
  settled(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }
}

/**
 * One socket to the right neighbour's data-plane server, shared by successive collectives. On
 * Linux it offers the receiver a shared segment; a receiver on the same host maps it, and payloads
 * then go through the segment instead of the socket (see `shm_slots.ts`).
 */
export class TcpPeerClient implements ChunkSink {
  readonly address: string;
  #hello: Record<string, unknown>;
  #sharedMemory: boolean;
  #link: Promise<Link> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    address: string,
    options: { jobId: string; token: string; rank: number; sharedMemory?: boolean },
  ) {
    this.address = address;
    this.#hello = { job_id: options.jobId, token: options.token, sender_rank: options.rank };
    this.#sharedMemory = options.sharedMemory ?? true;
  }

  openChunkStream(options: ChunkStreamOptions): ChunkWriter {
    return new TcpChunkWriter(this, options);
  }

  /**
   * How payloads travel on the current connection: "shm" (a shared segment), "tcp" (the socket),
   * or undefined before the first chunk has connected.
   */
  async path(): Promise<"shm" | "tcp" | undefined> {
    const link = await this.#link?.catch(() => undefined);
    return link ? (link.slots ? "shm" : "tcp") : undefined;
  }

  /**
   * Writes each chunk, in the order given; a failed connection is dropped and redialled next
   * time. Chunks whose stream was cancelled meanwhile (`live()` false) are skipped. The payload is
   * read (copied into a slot or written to the socket) only here.
   */
  send(chunk: OutgoingChunk, deadline: number, live: () => boolean): Promise<void> {
    const next = this.#queue.then(async () => {
      if (!live()) return;
      const { conn, slots, inPlace } = await (this.#link ??= this.#dial(deadline));
      const region = slots && registeredRegion(chunk.payload);
      if (region) {
        inPlace.add();
        await writeAll(
          conn,
          encodeChunkHeader(chunk, {
            shm_buffer: region.path,
            shm_buffer_nonce: region.nonce,
            shm_offset: region.offset,
          }),
        );
      } else if (slots) {
        const slot = await slots.place(chunk.payload);
        await writeAll(conn, encodeChunkHeader(chunk, { shm_slot: slot + 1 }));
      } else {
        await writeAll(conn, encodeChunkHeader(chunk));
        await writeAll(conn, chunk.payload);
      }
    });
    this.#queue = next.catch(() => {
      this.drop();
    });
    return next;
  }

  /** Waits until every queued chunk is written. */
  drained(): Promise<void> {
    return this.#queue;
  }

  /**
   * Waits until the receiver has read every payload sent as a place in a registered buffer, after
   * which the caller may write that buffer again.
   */
  async consumed(): Promise<void> {
    const link = await this.#link;
    await link?.inPlace.settled();
  }

  /** Closes the socket (the receiver fails the collective in progress). */
  drop(): void {
    const link = this.#link;
    this.#link = undefined;
    this.#queue = Promise.resolve();
    link?.then(({ conn, slots, inPlace }) => {
      const closed = new UnavailableError(`Data connection to ${this.address} closed`);
      slots?.close(closed);
      inPlace.fail(closed);
      closeQuietly(conn);
    }, () => {});
  }

  close(): void {
    this.drop();
  }

  async #dial(deadline: number): Promise<Link> {
    const [hostname, port] = splitHostPort(this.address);
    const ms = Math.max(1, Math.min(HELLO_TIMEOUT_MS, deadline - Date.now()));
    const conn = await withTimeout(
      Deno.connect({ hostname, port }),
      ms,
      `Cannot connect to ${this.address} within ${ms} ms`,
    );
    conn.setNoDelay(true);
    const slots = this.#sharedMemory ? SlotSender.create(SHARED_SLOTS, MAX_CHUNK_BYTES) : undefined;
    try {
      await writeAll(conn, encodeDelimited(peerCodecs.hello, { ...this.#hello, ...slots?.offer }));
      const answer = new Uint8Array(1);
      const n = await withTimeout(conn.read(answer), ms, `No answer from ${this.address}`);
      if (n !== 1 || !(answer[0] === 1 || (answer[0] === 2 && slots))) {
        throw new UnauthenticatedError(`Data-plane peer ${this.address} refused this job's token`);
      }
      const inPlace = new Outstanding();
      if (answer[0] === 1) {
        slots?.close(new Error("The receiver took payloads on the socket"));
        return { conn, inPlace };
      }
      readCredits(conn, slots!, inPlace, this.address);
      return { conn, slots, inPlace };
    } catch (err) {
      slots?.close(err instanceof Error ? err : new Error(String(err)));
      closeQuietly(conn);
      throw err;
    }
  }
}

/**
 * Takes the credits the receiver writes back (see shm_slots.ts); when the socket ends, every wait
 * for a slot or for the receiver to have read everything fails.
 */
function readCredits(
  conn: Deno.Conn,
  slots: SlotSender,
  inPlace: Outstanding,
  address: string,
): void {
  (async () => {
    const buf = new Uint8Array(4096);
    let end = 0;
    while (true) {
      const n = await conn.read(buf.subarray(end));
      if (n === null) return;
      end += n;
      let p = 0;
      for (let v = readVarint(buf, p, end); v; v = readVarint(buf, p, end)) {
        if (v[0] === 0) inPlace.done();
        else slots.credit(v[0] - 1);
        p = v[1];
      }
      buf.copyWithin(0, p, end);
      end -= p;
    }
  })().catch(() => closeQuietly(conn)).finally(() => {
    const gone = new UnavailableError(`Right neighbour ${address} closed its data connection`);
    slots.close(gone);
    inPlace.fail(gone);
  });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

class TcpChunkWriter implements ChunkWriter {
  #client: TcpPeerClient;
  #options: ChunkStreamOptions;
  #inFlight = 0;
  #sent = 0;
  #error: Error | undefined;
  #cancelled = false;
  #wake: (() => void) | undefined;

  constructor(client: TcpPeerClient, options: ChunkStreamOptions) {
    this.#client = client;
    this.#options = options;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  async write(chunk: OutgoingChunk, signal?: AbortSignal): Promise<void> {
    if (this.#error) {
      payloadPool.release(chunk.payload);
      throw this.#error;
    }
    this.#inFlight++;
    this.#client.send(chunk, this.#options.deadline, () => !this.#cancelled).then(
      () => {
        payloadPool.release(chunk.payload);
        this.#inFlight--;
        this.#sent++;
        this.#wake?.();
      },
      (err) => {
        payloadPool.release(chunk.payload);
        this.#fail(err);
      },
    );
    if (this.#inFlight < this.#options.window) return;
    await withTimeout(
      new Promise<void>((resolve) => {
        this.#wake = () => {
          if (this.#inFlight < this.#options.window || this.#error) resolve();
        };
      }),
      this.#options.stallMs,
      `Right neighbour ${this.#client.address} took no chunk for ${this.#options.stallMs} ms`,
      signal,
    );
    this.#wake = undefined;
    if (this.#error) throw this.#error;
  }

  async finish(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (this.#error) throw this.#error;
    await withTimeout(
      this.#client.drained().then(() => this.#client.consumed()),
      timeoutMs,
      `Right neighbour ${this.#client.address} took no chunk for ${timeoutMs} ms`,
      signal,
    );
    if (this.#error) throw this.#error;
    return this.#sent;
  }

  cancel(): void {
    this.#cancelled = true;
    this.#client.drop();
  }

  #fail(err: unknown) {
    if (this.#error) return;
    const why = err instanceof Error ? err.message : String(err);
    this.#error = err instanceof UnauthenticatedError ? err : new UnavailableError(
      `Right neighbour ${this.#client.address} data connection failed: ${why}`,
    );
    this.#options.onError?.(this.#error);
    this.#wake?.();
  }
}

type Codec = (typeof peerCodecs)["chunk"];

const PAYLOAD_FIELD = 12; // AllReduceChunk.payload
const PAYLOAD_TAG = (PAYLOAD_FIELD << 3) | 2; // length-delimited

/**
 * A chunk's frame up to its payload: the varint length of the whole message, protobufjs's
 * encoding of the other fields, then the payload field's tag and length, so that the payload's
 * own bytes, written next, complete the message as the wire format defines it. With `shared`
 * (the fields that say where in shared memory the payload lies), the whole frame, payload absent.
 */
function encodeChunkHeader(chunk: OutgoingChunk, shared?: Record<string, unknown>): Uint8Array {
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

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}

function encodeDelimited(codec: Codec, message: Record<string, unknown>): Uint8Array {
  return codec.type.encodeDelimited(codec.type.fromObject(message)).finish();
}

function decode(codec: Codec, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    return new UndecodableMessage(err instanceof Error ? err.message : String(err));
  }
}

/**
 * One received message: its bytes, valid until the next is read; or, for a chunk with a large
 * payload, the bytes before the payload field and the payload itself, read from the socket
 * straight into a pooled array (not copied out of the read buffer).
 */
interface Frame {
  message: Uint8Array;
  payload?: Uint8Array<ArrayBuffer>;
}

/** Payloads this large are read straight into their own array; smaller ones are copied. */
const DIRECT_PAYLOAD_BYTES = 16 * 1024;
/** Bytes the read buffer takes per read; a large payload's remainder bypasses it. */
const READ_BYTES = 64 * 1024;

/** Yields each varint-length-prefixed message (see {@linkcode Frame}); refuses oversized ones. */
async function* readFrames(conn: Deno.Conn): AsyncGenerator<Frame> {
  let buf = new Uint8Array(READ_BYTES);
  let start = 0; // first unparsed byte
  let end = 0; // one past the last byte read
  while (true) {
    let need = 1; // bytes the next frame needs from `start`, once known
    for (let head = readVarint(buf, start, end); head; head = readVarint(buf, start, end)) {
      const [len, body] = head;
      if (len > MAX_MESSAGE_BYTES) {
        throw new RangeError(`Data-plane message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}`);
      }
      const split = len > DIRECT_PAYLOAD_BYTES ? trailingPayload(buf, body, body + len, end) : null;
      if (split === undefined) {
        need = end - start + 1; // the fields before the payload are not all in yet
        break;
      }
      if (split) {
        const [fieldStart, at, n] = split;
        const payload = payloadPool.take(n);
        const have = Math.min(end - at, n);
        payload.set(buf.subarray(at, at + have));
        for (let got = have; got < n;) {
          const r = await conn.read(payload.subarray(got));
          if (r === null) return;
          got += r;
        }
        yield { message: buf.subarray(body, fieldStart), payload };
        start = at + have;
        continue;
      }
      if (end - body < len) {
        need = body - start + len;
        break;
      }
      yield { message: buf.subarray(body, body + len) };
      start = body + len;
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

/**
 * For a message in `buf[body, stop)` of which the bytes before `end` have arrived: where its
 * payload field starts, where the payload's bytes start, and how many there are, when the payload
 * is the message's last field and its size is one a pooled array holds; null when the message is
 * not laid out so (it is then read whole and decoded as usual); undefined when the fields before
 * the payload have not all arrived.
 */
function trailingPayload(
  buf: Uint8Array,
  body: number,
  stop: number,
  end: number,
): [number, number, number] | null | undefined {
  const available = Math.min(end, stop);
  for (let p = body; p < stop;) {
    const field = p;
    const key = readVarint(buf, p, available);
    if (!key) return undefined;
    p = key[1];
    const wire = key[0] % 8;
    if (wire === 0) {
      const v = readVarint(buf, p, available);
      if (!v) return undefined;
      p = v[1];
    } else if (wire === 2) {
      const l = readVarint(buf, p, available);
      if (!l) return undefined;
      const [n, at] = l;
      if (Math.floor(key[0] / 8) === PAYLOAD_FIELD && at + n === stop) {
        return n <= payloadPool.capacity ? [field, at, n] : null;
      }
      p = at + n;
      if (p > available) return p > stop ? null : undefined;
    } else if (wire === 1 || wire === 5) {
      p += wire === 1 ? 8 : 4;
    } else {
      return null;
    }
  }
  return null;
}

/** A varint at `p` as [value, index after it], or undefined when it is not all there yet. */
function readVarint(buf: Uint8Array, p: number, end: number): [number, number] | undefined {
  let value = 0;
  for (let shift = 0; p < end; shift += 7) {
    if (shift > 28) throw new RangeError("Malformed data-plane length prefix");
    const b = buf[p++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, p];
  }
  return undefined;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), Number(address.slice(i + 1))];
}

function closeQuietly(c: { close(): void }) {
  try {
    c.close();
  } catch {
    // already closed
  }
}
