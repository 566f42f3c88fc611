/**
 * Continuous batching: one decode loop serves every request. New requests wait in a bounded queue
 * and join at a step boundary (prefill, then they decode with the others); finished or cancelled
 * ones leave at the next boundary and free their cache slot for the queue. The engine is driven
 * only through the {@linkcode BatchEngine} contract.
 *
 * A step the engine fails fails only the requests in it (a failed prefill, only the one joining):
 * their streams end with the error, their slots are released, and the loop goes on with the queue.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler(engine, codec, { maxQueue: 64, logger });
 * for await (const chunk of scheduler.generate(params, signal)) write(chunk);
 * ```
 */
import { ResourceExhaustedError } from "../../proto/mod.ts";
import type { BatchEngine, NextToken, RowRequest } from "../../model/infer/mod.ts";
import { InputError } from "../../model/errors.ts";
import type { Logger } from "../../model/log.ts";
import { Channel } from "./channel.ts";
import { promptLogprobs, type TokenLogprob, tokenLogprob } from "./logprobs.ts";
import { sampleToken, type SamplingParams, seededRandom, stepRequest } from "./sampling.ts";
import { checkTokenIds, type TextCodec } from "./text_codec.ts";
import { TextStream } from "./text_stream.ts";

/** Why a generation ended: `eos` is the model's end-of-text token, `stop` a stop sequence. */
export type FinishReason = "length" | "stop" | "eos" | "cancelled";

/** A generation as the scheduler takes it; each transport builds it from its own fields. */
export interface GenerationParams {
  /** Text to encode, or token ids. An empty prompt is `<|endoftext|>` alone. */
  prompt: string | readonly number[];
  /** Tokens to generate at most (fewer when the context ends first); 0 only scores the prompt. */
  maxTokens: number;
  sampling: SamplingParams;
  /** Same seed, same request, same model: same tokens. Absent: a random seed. */
  seed?: number;
  stop: readonly string[];
  /** Give each token's log-probability and this many alternatives (0 … 5); absent: none. */
  logprobs?: number;
  /** Send the prompt's tokens first, with their log-probabilities when `logprobs` is set. */
  echo: boolean;
}

/** One streamed piece of a generation; the last carries `finish` and `usage`. */
export interface GenerateChunk {
  text: string;
  tokenIds: number[];
  /** One per token id, when the request asked for log-probabilities. */
  logprobs?: TokenLogprob[];
  /** This chunk is the echoed prompt (always the first). */
  echo?: boolean;
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

/** A prompt or text does not fit the model's context. */
export class ContextLengthError extends InputError {
  constructor(field: string, message: string) {
    super(field, message);
    this.name = "ContextLengthError";
  }
}

/** What the scheduler is doing, for ModelInfo, health and metrics. */
export interface SchedulerStats {
  activeSlots: number;
  queueDepth: number;
  maxBatch: number;
  maxQueue: number;
  completed: number;
  cancelled: number;
  /** Requests ended by an engine failure, and the steps that failed. */
  failed: number;
  failedSteps: number;
  lastFailure?: string;
}

/** Told what happens to requests, for metrics; every method must return at once. */
export interface SchedulerObserver {
  /** A request was queued. */
  admitted(promptTokens: number): void;
  /** A token was generated, `seconds` after the request was queued (first) or after the last. */
  token(first: boolean, seconds: number): void;
  /** A request ended, `seconds` after it was queued, having generated `tokens`. */
  finished(reason: FinishReason | "failed", seconds: number, tokens: number): void;
  /** A decode step ran with `batch` sequences. */
  step(batch: number): void;
  /** A prefill or decode step failed; its requests end with the error. */
  stepFailed(): void;
}

interface Job {
  readonly prompt: readonly number[];
  /** The prompt as given, for echo. */
  readonly promptText?: string;
  readonly maxTokens: number;
  readonly sampling: SamplingParams;
  /** What sampling and log-probabilities need from each step (see stepRequest). */
  readonly request: RowRequest;
  readonly random: () => number;
  readonly seen: Set<number>;
  readonly text: TextStream;
  readonly out: Channel<GenerateChunk>;
  readonly logprobs?: number;
  readonly echo: boolean;
  readonly queuedAt: number;
  lastTokenAt: number;
  generated: number;
  last: number;
  done: boolean;
}

/** The decode loop and its queue. */
export class Scheduler {
  readonly #engine: BatchEngine;
  readonly #codec: TextCodec;
  readonly #maxQueue: number;
  readonly #log: Logger;
  readonly #observer?: SchedulerObserver;
  readonly #queue: Job[] = [];
  /** active[s] owns cache slot s. */
  readonly #active: Job[] = [];
  #running = false;
  #completed = 0;
  #cancelled = 0;
  #failed = 0;
  #failedSteps = 0;
  #lastFailure?: string;

  constructor(
    engine: BatchEngine,
    codec: TextCodec,
    options: { maxQueue: number; logger: Logger; observer?: SchedulerObserver },
  ) {
    this.#engine = engine;
    this.#codec = codec;
    this.#maxQueue = options.maxQueue;
    this.#log = options.logger;
    this.#observer = options.observer;
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
      failed: this.#failed,
      failedSteps: this.#failedSteps,
      lastFailure: this.#lastFailure,
    };
  }

  /**
   * Queues a generation and streams its chunks. Throws InputError for a request the model cannot
   * serve and QueueFullError when the queue is full; aborting `signal` (client cancel or deadline)
   * frees the slot at the next step boundary. A stream the engine fails ends with its error.
   */
  generate(params: GenerationParams, signal: AbortSignal): AsyncIterable<GenerateChunk> {
    const job = this.#admit(params);
    this.#queue.push(job);
    this.#observer?.admitted(job.prompt.length);
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
          signal.removeEventListener("abort", cancel);
          cancel();
          return Promise.resolve({ value: undefined, done: true });
        },
      }),
    };
  }

  #admit(p: GenerationParams): Job {
    const { vocabSize, contextLength } = this.#engine.cfg;
    if (p.sampling.topK > vocabSize) {
      throw new InputError(
        "top_k",
        `${p.sampling.topK} is more than the vocabulary of ${vocabSize}`,
      );
    }
    const prompt = this.#promptIds(p.prompt);
    // Scoring alone may fill the context; generating needs room for one more token.
    const room = p.maxTokens > 0 ? contextLength - 1 : contextLength;
    if (prompt.length > room) {
      throw new ContextLengthError(
        "prompt",
        `${prompt.length} tokens ${p.maxTokens > 0 ? "leave no room in" : "exceed"} the ` +
          `context of ${contextLength} tokens`,
      );
    }
    if (this.#queue.length >= this.#maxQueue) throw new QueueFullError(this.#maxQueue);
    const now = performance.now();
    const step = stepRequest(p.sampling);
    return {
      prompt,
      promptText: typeof p.prompt === "string" ? p.prompt : undefined,
      maxTokens: Math.min(p.maxTokens, contextLength - prompt.length),
      sampling: p.sampling,
      // Log-probabilities are of the raw logits, so a row asking for them fetches the logits.
      request: p.logprobs === undefined ? step : { ...step, logits: true },
      random: seededRandom(p.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]),
      seen: new Set(prompt),
      text: new TextStream(p.stop),
      out: new Channel(),
      logprobs: p.logprobs,
      echo: p.echo,
      queuedAt: now,
      lastTokenAt: now,
      generated: 0,
      last: -1,
      done: false,
    };
  }

  #promptIds(prompt: string | readonly number[]): readonly number[] {
    if (typeof prompt === "string") {
      return prompt === "" ? [this.#codec.endOfTextId] : this.#codec.encode(prompt);
    }
    if (prompt.length === 0) throw new InputError("prompt", "holds no tokens");
    checkTokenIds(prompt, this.#engine.cfg.vocabSize, "prompt");
    return prompt;
  }

  #wake(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop().catch((err) => {
      // Only a fault of the loop itself lands here (engine failures are handled per step): fail
      // everything it held and start clean, so the next request finds the slots free.
      this.#log.error("decode loop failed", { error: String(err) });
      this.#fail([...this.#active, ...this.#queue], err);
      this.#queue.length = 0;
      this.#active.length = 0;
      while (this.#engine.active > 0) this.#engine.release(this.#engine.active - 1);
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
      try {
        const requests = this.#active.map((j) => j.request);
        const next = await this.#engine.decode(this.#active.map((j) => j.last), requests);
        this.#observer?.step(this.#active.length);
        this.#active.forEach((job, s) => this.#emit(job, next[s]));
      } catch (err) {
        this.#fail(this.#active, err);
      }
    }
  }

  /** Prefills queued jobs into free slots; a job that fails to join fails alone. */
  async #join(): Promise<void> {
    while (this.#queue.length && this.#active.length < this.#engine.maxBatch) {
      const job = this.#queue.shift()!;
      if (job.done) continue;
      try {
        if (job.echo) await this.#echo(job);
        if (job.maxTokens === 0) {
          this.#finish(job, { text: "", tokenIds: [], finish: "length" });
          continue;
        }
        const slot = this.#engine.acquire();
        this.#active[slot] = job;
        this.#emit(job, await this.#engine.prefill(slot, job.prompt, job.request));
      } catch (err) {
        this.#fail([job], err);
      }
    }
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i].done) this.#queue.splice(i, 1);
    }
  }

  /** Sends the prompt back first, scored when the request asked for log-probabilities. */
  async #echo(job: Job): Promise<void> {
    const chunk: GenerateChunk = {
      text: job.promptText ?? new TextDecoder().decode(this.#codec.decodeBytes(job.prompt)),
      tokenIds: [...job.prompt],
      echo: true,
    };
    if (job.logprobs !== undefined) {
      const logits = await this.#engine.promptLogits(job.prompt);
      chunk.logprobs = promptLogprobs(logits, job.prompt, job.logprobs);
    }
    if (!job.done) job.out.push(chunk);
  }

  /** Frees the slots of finished, cancelled and failed jobs, keeping live slots at the front. */
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
    this.#observer?.finished("cancelled", (performance.now() - job.queuedAt) / 1000, job.generated);
    job.out.close();
  }

  /** Ends `jobs` with `err` (their slots are freed at the next boundary). */
  #fail(jobs: readonly Job[], err: unknown): void {
    const live = jobs.filter((j) => !j.done);
    if (live.length === 0) return;
    this.#failedSteps++;
    this.#observer?.stepFailed();
    this.#lastFailure = err instanceof Error ? err.message : String(err);
    this.#log.error("step failed", { requests: live.length, error: this.#lastFailure });
    for (const job of live) {
      job.done = true;
      this.#failed++;
      this.#observer?.finished("failed", (performance.now() - job.queuedAt) / 1000, job.generated);
      job.out.close(err);
    }
  }

  /** Samples the next token of `job` and streams what it adds. */
  #emit(job: Job, next: NextToken): void {
    if (job.done) return;
    const token = sampleToken(next, job.sampling, job.seen, job.random);
    if (token === this.#codec.endOfTextId) {
      return this.#finish(job, { text: job.text.end(), tokenIds: [], finish: "eos" });
    }
    const now = performance.now();
    this.#observer?.token(job.generated === 0, (now - job.lastTokenAt) / 1000);
    job.lastTokenAt = now;
    job.generated++;
    job.seen.add(token);
    job.last = token;
    const { text, stopped } = job.text.push(this.#codec.decodeBytes([token]));
    const chunk: GenerateChunk = { text, tokenIds: [token] };
    if (job.logprobs !== undefined) {
      chunk.logprobs = [tokenLogprob(next.logits!, token, job.logprobs)];
    }
    if (stopped) return this.#finish(job, { ...chunk, finish: "stop" });
    if (job.generated >= job.maxTokens) {
      return this.#finish(job, { ...chunk, text: text + job.text.end(), finish: "length" });
    }
    job.out.push(chunk);
  }

  #finish(job: Job, chunk: GenerateChunk): void {
    job.done = true;
    this.#completed++;
    const seconds = (performance.now() - job.queuedAt) / 1000;
    this.#observer?.finished(chunk.finish!, seconds, job.generated);
    job.out.push({ ...chunk, usage: usage(job) });
    job.out.close();
  }
}

function usage(job: Job) {
  return { promptTokens: job.prompt.length, completionTokens: job.generated };
}
