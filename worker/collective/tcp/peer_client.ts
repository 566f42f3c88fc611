/**
 * The TCP data plane's client: one socket to the right neighbour's server, shared by successive
 * collectives, on which chunks go in the order they are queued. The wire format is in `frame.ts`.
 *
 * @example
 * ```ts
 * const right = new TcpPeerClient(rightAddress, { jobId, token, rank });
 * await ringAllReduce(grads, { ...ring, right }, { step });
 * ```
 */
import {
  MAX_CHUNK_BYTES,
  peerCodecs,
  UnauthenticatedError,
  UnavailableError,
} from "../../../proto/mod.ts";
import type { ChunkSink, ChunkStreamOptions, ChunkWriter, OutgoingChunk } from "../chunk_sink.ts";
import { withTimeout } from "../grpc/peer_client.ts";
import { registeredRegion, SlotSender } from "../shm/shm_slots.ts";
import { closeQuietly, HELLO_TIMEOUT_MS, splitHostPort, writeAll } from "./_socket.ts";
import { type ChunkQueue, WindowedChunkWriter } from "./chunk_writer.ts";
import {
  decodeCredits,
  encodeChunkHeader,
  encodeDelimited,
  HelloAnswer,
  IN_PLACE_CREDIT,
} from "./frame.ts";

/** Slots of a shared segment (each holds the largest chunk, so 32 MiB in all). */
const SHARED_SLOTS = 16;

/** An open data connection, with its shared segment when the receiver mapped one. */
interface Link {
  conn: Deno.Conn;
  slots?: SlotSender;
  /** Payloads sent as places in a registered buffer that the receiver has not credited yet. */
  inPlace: Outstanding;
}

/**
 * One socket to the right neighbour's data-plane server, shared by successive collectives. On
 * Linux it offers the receiver a shared segment; a receiver on the same host maps it, and payloads
 * then go through the segment instead of the socket (see `shm_slots.ts`).
 */
export class TcpPeerClient implements ChunkSink, ChunkQueue {
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
    return new WindowedChunkWriter(this, options);
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
      await writeChunk(await (this.#link ??= this.#dial(deadline)), chunk);
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
      const shared = answer[0] === HelloAnswer.admittedShared && slots;
      if (n !== 1 || !(answer[0] === HelloAnswer.admitted || shared)) {
        throw new UnauthenticatedError(`Data-plane peer ${this.address} refused this job's token`);
      }
      const inPlace = new Outstanding();
      if (!shared) {
        slots?.close(new Error("The receiver took payloads on the socket"));
        return { conn, inPlace };
      }
      readCredits(conn, slots, inPlace, this.address);
      return { conn, slots, inPlace };
    } catch (err) {
      slots?.close(err instanceof Error ? err : new Error(String(err)));
      closeQuietly(conn);
      throw err;
    }
  }
}

/**
 * Writes one chunk on `link`: as a place in a registered buffer the receiver maps, through a
 * shared slot, or with its payload on the socket.
 */
async function writeChunk({ conn, slots, inPlace }: Link, chunk: OutgoingChunk): Promise<void> {
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
  const onCredit = (credit: number) => {
    if (credit === IN_PLACE_CREDIT) inPlace.done();
    else slots.credit(credit - 1);
  };
  (async () => {
    const buf = new Uint8Array(4096);
    let end = 0;
    while (true) {
      const n = await conn.read(buf.subarray(end));
      if (n === null) return;
      end += n;
      const p = decodeCredits(buf, 0, end, onCredit);
      buf.copyWithin(0, p, end);
      end -= p;
    }
  })().catch(() => closeQuietly(conn)).finally(() => {
    const gone = new UnavailableError(`Right neighbour ${address} closed its data connection`);
    slots.close(gone);
    inPlace.fail(gone);
  });
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
