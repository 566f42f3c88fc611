/**
 * A worker's channel to the coordinator: promise-returning calls with the job token and a deadline
 * on each, chunked downloads, and the chunked state upload.
 */
import * as grpc from "@grpc/grpc-js";
import {
  channelCredentials,
  clientChannelOptions,
  coordinatorService,
  type TlsFiles,
  tokenMetadata,
} from "../../proto/mod.ts";
import { concatBytes } from "../../model/bytes.ts";

const UPLOAD_CHUNK_BYTES = 1 << 20;

export class CoordinatorClient {
  readonly address: string;
  readonly #client: grpc.Client;
  readonly #token: string;

  constructor(address: string, options: { token: string; tls?: TlsFiles }) {
    this.address = address;
    this.#token = options.token;
    this.#client = new grpc.Client(
      address,
      channelCredentials(options.tls),
      clientChannelOptions(options.tls),
    );
  }

  /** Resolves once the channel is connected; rejects after `timeoutMs`. */
  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()))
    );
  }

  /** One unary call; `timeoutMs` bounds it (the step barriers wait as long as a step takes). */
  call<T>(method: string, request: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    const def = coordinatorService[method];
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        tokenMetadata(this.#token),
        { deadline: Date.now() + timeoutMs },
        (err, value) => (err ? reject(err) : resolve(value as T)),
      );
    });
  }

  /** A server-streamed download, concatenated. */
  download(
    method: "FetchShard" | "FetchState",
    request: Record<string, unknown>,
    timeoutMs = 300_000,
  ): Promise<Uint8Array> {
    const def = coordinatorService[method];
    return new Promise((resolve, reject) => {
      const stream = this.#client.makeServerStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        tokenMetadata(this.#token),
        { deadline: Date.now() + timeoutMs },
      );
      const parts: Uint8Array[] = [];
      stream.on("data", (m: { data: Uint8Array }) => parts.push(m.data.slice()));
      stream.on("error", reject);
      stream.on("end", () => resolve(concatBytes(parts)));
    });
  }

  /** Sends the training state after `step` in chunks. */
  upload(workerId: string, step: number, bytes: Uint8Array, timeoutMs = 300_000): Promise<void> {
    const def = coordinatorService.UploadState;
    return new Promise((resolve, reject) => {
      const stream = this.#client.makeClientStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        tokenMetadata(this.#token),
        { deadline: Date.now() + timeoutMs },
        (err) => (err ? reject(err) : resolve()),
      );
      for (let at = 0; at < bytes.length || at === 0; at += UPLOAD_CHUNK_BYTES) {
        stream.write({
          worker_id: workerId,
          step,
          data: bytes.subarray(at, at + UPLOAD_CHUNK_BYTES),
        });
        if (bytes.length === 0) break;
      }
      stream.end();
    });
  }

  close(): void {
    this.#client.close();
  }
}
