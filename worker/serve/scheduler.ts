/**
 * Continuous batching: one decode loop serves every request. New requests wait in a bounded queue
 * and join at a step boundary (prefill, then they decode with the others); finished or cancelled
 * ones leave at the next boundary and free their cache slot for the queue.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler(engine, codec, { maxQueue: 64, logger });
 * for await (const chunk of scheduler.generate(request, signal)) write(chunk);
 * ```
 */
import { ResourceExhaustedError } from "../../proto/mod.ts";
import type { InferenceEngine, NextToken, RowRequest } from "../../model/infer/mod.ts";
import { InputError } from "../../model/errors.ts";
import type { Logger } from "../../model/log.ts";
import { Channel } from "./channel.ts";
import type { GenerateRequest } from "./params.ts";
import { sampleToken, type SamplingParams, seededRandom, stepRequest } from "./sampling.ts";
import type { TextCodec } from "./text_codec.ts";
import { TextStream } from "./text_stream.ts";

/** Why a generation ended. */
export type FinishReason = "length" | "stop" | "eos" | "cancelled";

/** One streamed piece of a generation; the last carries `finish` and `usage`. */
export interface GenerateChunk {
  text: string;
  tokenIds: number[];
  finish?: FinishReason;
  usage?: { promptTokens: number; completionTokens: number };
}

/** The queue is full; the caller may retry later. */
export class QueueFullError extends ResourceExhaustedError {
  constructor(limit: number) {
    super(`The request queue is full (${limit} waiting); retry later`);
    this.name = "QueueFullError";
  }
}

/** What the scheduler is doing, for ModelInfo and metrics. */
export interface SchedulerStats {
  activeSlots: number;
  queueDepth: number;
  maxBatch: number;
  maxQueue: number;
  completed: number;
  cancelled: number;
}

interface Job {
  readonly prompt: number[];
  readonly maxTokens: number;
  readonly sampling: SamplingParams;
  /** What sampling needs from each step (see stepRequest). */
  readonly request: RowRequest;
  readonly random: () => number;
  readonly seen: Set<number>;
  readonly text: TextStream;
  readonly out: Channel<GenerateChunk>;
  generated: number;
  last: number;
  done: boolean;
}

/** The decode loop and its queue. */
export class Scheduler {
  readonly #engine: InferenceEngine;
  readonly #codec: TextCodec;
  readonly #maxQueue: number;
  readonly #log: Logger;
  readonly #queue: Job[] = [];
  /** active[s] owns cache slot s. */
  readonly #active: Job[] = [];
  #running = false;
  #completed = 0;
  #cancelled = 0;

  constructor(
    engine: InferenceEngine,
    codec: TextCodec,
    options: { maxQueue: number; logger: Logger },
  ) {
    this.#engine = engine;
    this.#codec = codec;
    this.#maxQueue = options.maxQueue;
    this.#log = options.logger;
  }

  /** Current load. */
  stats(): SchedulerStats {
    return {
      activeSlots: this.#active.length,
      queueDepth: this.#queue.length,
      maxBatch: this.#engine.maxBatch,
      maxQueue: this.#maxQueue,
      completed: this.#completed,
      cancelled: this.#cancelled,
    };
  }

  /**
   * Queues a generation and streams its chunks. Throws InputError for a request the model cannot
   * serve and QueueFullError when the queue is full; aborting `signal` (client cancel or deadline)
   * frees the slot at the next step boundary.
   */
  generate(req: GenerateRequest, signal: AbortSignal): AsyncIterable<GenerateChunk> {
    const job = this.#admit(req);
    this.#queue.push(job);
    const cancel = () => {
      this.#cancel(job);
      this.#wake();
    };
    if (signal.aborted) cancel();
    signal.addEventListener("abort", cancel, { once: true });
    this.#wake();
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => job.out.next(),
        return: () => {
          cancel();
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
  }

  #admit(req: GenerateRequest): Job {
    const cfg = this.#engine.cfg;
    if (req.top_k > cfg.vocabSize) {
      throw new InputError("top_k", `${req.top_k} is more than the vocabulary of ${cfg.vocabSize}`);
    }
    const prompt = req.prompt === "" ? [this.#codec.endOfTextId] : this.#codec.encode(req.prompt);
    if (prompt.length >= cfg.contextLength) {
      throw new InputError(
        "prompt",
        `${prompt.length} tokens leave no room in the context of ${cfg.contextLength} tokens`,
      );
    }
    if (this.#queue.length >= this.#maxQueue) throw new QueueFullError(this.#maxQueue);
    const sampling: SamplingParams = {
      temperature: req.temperature,
      topK: req.top_k,
      topP: req.top_p,
      repetitionPenalty: req.repetition_penalty,
    };
    return {
      prompt,
      maxTokens: Math.min(req.max_tokens, cfg.contextLength - prompt.length),
      sampling,
      request: stepRequest(sampling),
      random: seededRandom(req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]),
      seen: new Set(prompt),
      text: new TextStream(req.stop),
      out: new Channel(),
      generated: 0,
      last: -1,
      done: false,
    };
  }

  #wake(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop().catch((err) => {
      this.#log.error("decode loop failed", { error: String(err) });
      for (const job of [...this.#active, ...this.#queue]) job.out.close(err);
      this.#active.length = 0;
      this.#queue.length = 0;
    }).finally(() => {
      this.#running = false;
      if (this.#queue.length) this.#wake();
    });
  }

  async #loop(): Promise<void> {
    while (true) {
      this.#leave();
      await this.#join();
      this.#leave();
      if (this.#active.length === 0) {
        if (this.#queue.length === 0) return;
        continue;
      }
      const requests = this.#active.map((j) => j.request);
      const next = await this.#engine.decode(this.#active.map((j) => j.last), requests);
      this.#active.forEach((job, s) => this.#emit(job, next[s]));
    }
  }

  /** Prefills queued jobs into free slots. */
  async #join(): Promise<void> {
    while (this.#queue.length && this.#active.length < this.#engine.maxBatch) {
      const job = this.#queue.shift()!;
      if (job.done) continue;
      const slot = this.#engine.acquire();
      this.#active[slot] = job;
      this.#emit(job, await this.#engine.prefill(slot, job.prompt, job.request));
    }
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i].done) this.#queue.splice(i, 1);
    }
  }

  /** Frees the slots of finished and cancelled jobs, keeping live slots at the front. */
  #leave(): void {
    for (let s = this.#active.length - 1; s >= 0; s--) {
      if (!this.#active[s].done) continue;
      const moved = this.#engine.release(s);
      if (moved >= 0) this.#active[s] = this.#active[moved];
      this.#active.pop();
    }
  }

  #cancel(job: Job): void {
    if (job.done) return;
    job.done = true;
    this.#cancelled++;
    job.out.close();
  }

  /** Samples the next token of `job` and streams what it adds. */
  #emit(job: Job, next: NextToken): void {
    if (job.done) return;
    const token = sampleToken(next, job.sampling, job.seen, job.random);
    const usage = () => ({ promptTokens: job.prompt.length, completionTokens: job.generated });
    if (token === this.#codec.endOfTextId) {
      return this.#finish(job, {
        text: job.text.end(),
        tokenIds: [],
        finish: "eos",
        usage: usage(),
      });
    }
    job.generated++;
    job.seen.add(token);
    job.last = token;
    const { text, stopped } = job.text.push(this.#codec.decodeBytes([token]));
    if (stopped) {
      return this.#finish(job, { text, tokenIds: [token], finish: "stop", usage: usage() });
    }
    if (job.generated >= job.maxTokens) {
      const rest = text + job.text.end();
      return this.#finish(job, { text: rest, tokenIds: [token], finish: "length", usage: usage() });
    }
    job.out.push({ text, tokenIds: [token] });
  }

  #finish(job: Job, chunk: GenerateChunk): void {
    job.done = true;
    this.#completed++;
    job.out.push(chunk);
    job.out.close();
  }
}
