/**
 * A worker's lease on the coordinator, renewed from a thread of its own.
 *
 * onnxruntime-node runs a session on the calling thread: its async `run()` is a `setImmediate`
 * around the native call. A micro-batch that computes for seconds (the `small` preset on one
 * thread, a large model on any device) would starve a heartbeat loop on the main thread, and the
 * coordinator would declare a busy worker dead and abort its step, over and over. The lease thread
 * keeps heartbeating while the main thread computes; a killed or frozen process still loses it.
 */
import type { TlsFiles } from "../proto/mod.ts";

export interface LeaseOptions {
  coordinator: string;
  token: string;
  tls?: TlsFiles;
  workerId: string;
  intervalMs: number;
  /** Called (on the main thread, when it is free) with each ring version the coordinator reports. */
  onRingVersion: (version: number) => void;
  /** Called with the message of a heartbeat that failed. */
  onError: (message: string) => void;
}

/** A running lease; `stop()` ends the heartbeats. */
export class Lease {
  readonly #thread: Worker;

  constructor(o: LeaseOptions) {
    this.#thread = new Worker(new URL("./lease_thread.ts", import.meta.url).href, {
      type: "module",
    });
    this.#thread.onmessage = (e: MessageEvent<{ ringVersion?: number; error?: string }>) => {
      if (e.data.error !== undefined) o.onError(e.data.error);
      else o.onRingVersion(e.data.ringVersion!);
    };
    const { onRingVersion: _v, onError: _e, ...settings } = o;
    this.#thread.postMessage(settings);
  }

  /**
   * Stops heartbeating. The thread and its channel stay: closing an HTTP/2 session sends GOAWAY,
   * which trips an nghttp2 assertion under Deno 2.9 (see runTrainingWorker), and the worker's entry
   * point ends the process anyway.
   */
  stop(): void {
    this.#thread.postMessage("stop");
  }
}
