import type {
  HelloMessage,
  PdfiumRequest,
  ReplyMessage,
  Task,
  TaskResults,
} from "./worker_protocol.ts";

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads; one per core by default. */
  size?: number;
  /** A task running longer is failed and its thread replaced: a guard against hangs only. */
  taskTimeoutMs?: number;
  /** Compiles PDFium, once, when the first thread asks for it (see {@linkcode PdfiumRequest}). */
  pdfium?: () => Promise<WebAssembly.Module | undefined>;
}

interface Job {
  id: number;
  task: Task;
  priority: number;
  affinity?: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  /** Affinity of the last job it ran: what it has cached. */
  last?: string;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Ingest worker threads (`ingest_worker.ts`), one task each at a time, queued tasks taken lowest
 * `priority` first (ties in submission order), so the file the main thread waits for comes first.
 * Among tasks of the same priority a thread prefers one with the `affinity` of its last task (the
 * PDF it has open). A thread that dies or hangs fails only its own task and is replaced.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ size: 2 });
 * const pages = await pool.run({ type: "pages", path: "a.pdf", from: 1, to: 8 }, 0);
 * pool.close();
 * ```
 */
export class WorkerPool {
  readonly size: number;
  #timeoutMs: number;
  #pdfium?: () => Promise<WebAssembly.Module | undefined>;
  #compiled?: Promise<WebAssembly.Module | undefined>;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 0;
  #closed = false;
  #later?: ReturnType<typeof setTimeout>;

  constructor(opts: WorkerPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? (navigator.hardwareConcurrency || 1));
    this.#timeoutMs = opts.taskTimeoutMs ?? 10 * 60_000;
    this.#pdfium = opts.pdfium;
  }

  /** Runs `task` on a worker. */
  run<K extends Task["type"]>(
    task: Task & { type: K },
    priority: number,
    opts: { affinity?: string } = {},
  ): Promise<TaskResults[K]> {
    if (this.#closed) return Promise.reject(new Error("Worker pool is closed"));
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        task,
        priority,
        affinity: opts.affinity,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      // Insert after every job of the same or lower priority: a stable priority queue.
      let i = this.#queue.length;
      while (i > 0 && this.#queue[i - 1].priority > priority) i--;
      this.#queue.splice(i, 0, job);
      this.#dispatch();
    });
  }

  /** Stops every thread; queued and running tasks fail. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#later);
    for (const job of this.#queue.splice(0)) job.reject(new Error("Worker pool is closed"));
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.worker.terminate();
      slot.job?.reject(new Error("Worker pool is closed"));
    }
    this.#slots = [];
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.job);
      if (!slot && this.#slots.length < this.size) slot = this.#spawn();
      if (!slot) return;
      const head = this.#queue[0];
      const own = slot.last === undefined
        ? -1
        : this.#queue.findIndex((j) => j.priority === head.priority && j.affinity === slot!.last);
      const job = this.#queue.splice(Math.max(0, own), 1)[0];
      slot.job = job;
      slot.last = job.affinity;
      slot.timer = setTimeout(() => {
        this.#fail(slot!, `timed out after ${Math.round(this.#timeoutMs / 1000)} s`);
      }, this.#timeoutMs);
      slot.worker.postMessage({ id: job.id, task: job.task });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./ingest_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: Slot = { worker };
    worker.onmessage = ({ data }: MessageEvent<ReplyMessage | PdfiumRequest>) => {
      if ("wantPdfium" in data) {
        this.#compiled ??= this.#pdfium?.().catch(() => undefined) ?? Promise.resolve(undefined);
        this.#compiled.then((pdfium) => {
          if (this.#slots.includes(slot)) {
            worker.postMessage({ hello: { pdfium } } satisfies HelloMessage);
          }
        });
        return;
      }
      const job = slot.job;
      if (!job || job.id !== data.id) return;
      clearTimeout(slot.timer);
      slot.job = undefined;
      if ("error" in data) job.reject(new Error(data.error));
      else job.resolve(data.result);
      // What the result leads to (a PDF's remaining pages) comes before any later file: when the
      // queue holds only later work, wait for this result's follow-ups to be queued.
      const head = this.#queue[0];
      if (!head || head.priority <= job.priority) this.#dispatch();
      else this.#later ??= setTimeout(() => (this.#later = undefined, this.#dispatch()), 0);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(slot, `worker thread crashed: ${e.message}`);
    };
    worker.onmessageerror = () => this.#fail(slot, "worker reply could not be read");
    this.#slots.push(slot);
    return slot;
  }

  /** Fails the slot's task and replaces its thread, which may be in any state. */
  #fail(slot: Slot, why: string): void {
    clearTimeout(slot.timer);
    slot.worker.terminate();
    this.#slots = this.#slots.filter((s) => s !== slot);
    slot.job?.reject(new Error(why));
    slot.job = undefined;
    if (!this.#closed) this.#dispatch();
  }
}
