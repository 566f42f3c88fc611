/**
 * The TCP data plane's server: accepts a connection from the left neighbour, admits it on a hello
 * that carries the job's token, then files every chunk it sends in the mailbox. Admission,
 * validation, mailboxes and deadlines are the same as on the gRPC path; a message that fails to
 * decode or validate closes the connection (a socket has no status codes), and the collective it
 * belonged to fails on this side at once. The wire format is in `frame.ts`.
 *
 * @example
 * ```ts
 * const server = startTcpPeerServer({ host: "127.0.0.1", port: 0, token, mailbox });
 * ```
 */
import {
  AllReduceChunk,
  BYTES_PER_ELEMENT,
  DataPlaneHello,
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
import { withTimeout } from "../grpc/peer_client.ts";
import { SlotReceiver } from "../shm/shm_slots.ts";
import { closeQuietly, HELLO_TIMEOUT_MS, writeAll } from "./_socket.ts";
import { decodeMessage, encodeCredits, HelloAnswer } from "./frame.ts";
import { type Frame, readFrames } from "./frame_reader.ts";

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

/** A connection that presented the job's token, with the shared segment it offered, if mapped. */
interface Admitted {
  hello: DataPlaneHello;
  slots: SlotReceiver | undefined;
}

async function serveConnection(
  conn: Deno.TcpConn,
  mailbox: ChunkMailbox,
  token: string,
  logger: Logger,
): Promise<void> {
  conn.setNoDelay(true);
  const frames = readFrames(conn);
  const admitted = await admit(conn, frames, mailbox.jobId, token);
  if (!admitted) return;
  const { hello, slots } = admitted;
  let current: CollectiveId | undefined;
  try {
    for await (const frame of frames) {
      const chunk = receivedChunk(frame, slots);
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

/**
 * Reads the hello and answers it: refuses (and throws) on a wrong token or job, maps a shared
 * segment the sender offers when this host can. Undefined when the sender left before a hello.
 */
async function admit(
  conn: Deno.TcpConn,
  frames: AsyncGenerator<Frame>,
  jobId: string,
  token: string,
): Promise<Admitted | undefined> {
  const first = await withTimeout(frames.next(), HELLO_TIMEOUT_MS, "No hello within 5 s");
  if (first.done) return undefined;
  let hello: DataPlaneHello;
  try {
    const message = decodeMessage(peerCodecs.hello, first.value.message);
    hello = parseMessage(DataPlaneHello, message, "DataPlaneHello");
    if (!tokensEqual(hello.token, token)) throw new UnauthenticatedError("Wrong job token");
    if (hello.job_id !== jobId) throw new UnauthenticatedError(`Not job "${hello.job_id}"`);
  } catch (err) {
    await conn.write(new Uint8Array([HelloAnswer.refused])).catch(() => {});
    throw err;
  }
  // A sender on this host that offers shared memory gets it; whether to offer is the sender's call.
  const slots = hello.shm_path
    ? SlotReceiver.accept(hello, new CreditWriter(conn).push)
    : undefined;
  await conn.write(new Uint8Array([slots ? HelloAnswer.admittedShared : HelloAnswer.admitted]));
  return { hello, slots };
}

/**
 * A frame as a validated chunk whose payload the caller owns: read apart from the frame, lent from
 * shared memory, or copied out of the read buffer. Throws if the frame is not a valid chunk.
 */
function receivedChunk(frame: Frame, slots: SlotReceiver | undefined): AllReduceChunk {
  const message = decodeMessage(peerCodecs.chunk, frame.message) as ReceivedChunk;
  // Whether the payload lies outside the read buffer (pooled, or shared memory) and need not be
  // copied out of it.
  let detached = !!frame.payload;
  if (!(message instanceof UndecodableMessage)) {
    if (frame.payload) message.payload = frame.payload;
    else if (message.shm_slot || message.shm_buffer) {
      message.payload = sharedPayload(message, slots);
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
  return chunk;
}

/** The payload a chunk names in shared memory: a slot, or a place in a registered buffer. */
function sharedPayload(message: ReceivedChunk, slots: SlotReceiver | undefined): Uint8Array {
  if (!slots) throw new RangeError("A chunk names shared memory on a plain connection");
  const bytes = message.element_count * (BYTES_PER_ELEMENT[message.dtype] ?? NaN);
  return message.shm_slot
    ? slots.payload(message.shm_slot - 1, bytes)
    : slots.inPlace(message.shm_buffer, message.shm_buffer_nonce, message.shm_offset, bytes);
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

/** Writes credits back to their sender, batched while a write is out. */
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
        await writeAll(this.#conn, encodeCredits(this.#pending.splice(0)));
      }
    } catch {
      // the connection is gone; so is the sender's segment
    } finally {
      this.#writing = false;
    }
  }
}
