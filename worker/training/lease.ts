/**
 * A worker's lease on the coordinator, renewed from a thread of its own.
 *
 * onnxruntime-node runs a session on the calling thread: its async `run()` is a `setImmediate`
 * around the native call. A micro-batch that computes for seconds (the `small` preset on one
 * thread, a large model on any device) would starve a heartbeat loop on the main thread, and the
 * coordinator would declare a busy worker dead and abort its step, over and over. The lease thread
 * keeps heartbeating while the main thread computes; a killed or frozen process still loses it.
 */
import type { TlsFiles } from "../../proto/mod.ts";

/** What the lease thread is told: where the coordinator is, once; then which membership to renew. */
export type LeaseMessage =
  | { coordinator: string; token: string; tls?: TlsFiles }
  | { renew: { workerId: string; intervalMs: number; membership: number } }
  | "stop";

/** What one membership does with the answers; called on the main thread when it is free. */
export interface LeaseHandlers {
  onRingVersion: (version: number) => void;
  onError: (message: string) => void;
}

/**
 * One thread and one channel for the life of the worker process; each membership (a rejoin gets a
 * new worker id) renews through it. The thread is never terminated: the worker's entry point ends
 * the process instead of closing its channel (why: `ABORTING_DENO` in proto/bind.ts).
 */
export class Lease {
  /**
   * Resolves once the thread has loaded and connected to the coordinator (or given up trying to
   * for a while): from then on it can heartbeat at once.
   */
  readonly ready: Promise<void>;
  readonly #thread: Worker;
  #handlers: LeaseHandlers | undefined;
  #membership = 0;

  constructor(coordinator: { coordinator: string; token: string; tls?: TlsFiles }) {
    this.#thread = new Worker(new URL("./lease_thread.ts", import.meta.url).href, {
      type: "module",
    });
    let ready = () => {};
    this.ready = new Promise((resolve) => ready = resolve);
    this.#thread.onmessage = (
      e: MessageEvent<"ready" | { membership: number; ringVersion?: number; error?: string }>,
    ) => {
      if (e.data === "ready") return ready();
      const h = this.#handlers;
      if (!h || e.data.membership !== this.#membership) return; // an answer for an older membership
      if (e.data.error !== undefined) h.onError(e.data.error);
      else h.onRingVersion(e.data.ringVersion!);
    };
    this.#send(coordinator);
  }

  /** Heartbeats `workerId` every `intervalMs` until {@linkcode stop} or the next `renew`. */
  renew(workerId: string, intervalMs: number, handlers: LeaseHandlers): void {
    this.#handlers = handlers;
    this.#send({ renew: { workerId, intervalMs, membership: ++this.#membership } });
  }

  /** Stops heartbeating (the coordinator then lets the membership expire, or the job is done). */
  stop(): void {
    this.#handlers = undefined;
    this.#send("stop");
  }

  #send(message: LeaseMessage): void {
    this.#thread.postMessage(message);
  }
}
