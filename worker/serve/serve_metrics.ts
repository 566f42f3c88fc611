/**
 * The inference server's Prometheus series, named after vLLM's (`vllm:num_requests_running` is
 * `denoformer_num_requests_running` here) and TGI's where they have one; docs/metrics.md lists
 * them all. The scheduler reports to it as its {@linkcode SchedulerObserver}; the transports report
 * refused requests and HTTP traffic. Gauges of load are read from the scheduler at scrape time.
 *
 * @example
 * ```ts
 * const metrics = new ServeMetrics();
 * const scheduler = new Scheduler(engine, codec, { maxQueue, logger, observer: metrics });
 * metrics.watch(scheduler);
 * ```
 */
import {
  Counter,
  Gauge,
  Histogram,
  metricsRegistry,
  type Registry,
} from "../../model/metrics/mod.ts";
import type { FinishReason, SchedulerObserver, SchedulerStats } from "./scheduler.ts";

/** vLLM's buckets for time to first token, with finer ones below 1 ms for small CPU models. */
const TTFT_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.02,
  0.04,
  0.06,
  0.08,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
  20,
  40,
  80,
];
/** vLLM's buckets for the time per output token, with finer ones below 10 ms. */
const TPOT_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.15,
  0.2,
  0.3,
  0.4,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];
const E2E_BUCKETS = [0.01, 0.05, 0.1, 0.3, 0.5, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120];

/** The inference server's registry and what feeds it. */
export class ServeMetrics implements SchedulerObserver {
  readonly registry: Registry;
  #stats: () => SchedulerStats | undefined = () => undefined;
  readonly #promptTokens: Counter;
  readonly #generationTokens: Counter;
  readonly #finished: Counter<"finished_reason">;
  readonly #errors: Counter<"api" | "code">;
  readonly #failedSteps: Counter;
  readonly #ttft: Histogram;
  readonly #tpot: Histogram;
  readonly #e2e: Histogram;
  readonly #batch: Histogram;
  readonly #http: Counter<"handler" | "status">;
  readonly #httpInProgress: Gauge<"handler">;

  constructor(registry = metricsRegistry()) {
    this.registry = registry;
    const registers = [registry];
    const stats = () => this.#stats();
    const loadGauge = (name: string, help: string, read: (s: SchedulerStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = stats();
          if (s) this.set(read(s));
        },
      });
    loadGauge(
      "denoformer_num_requests_running",
      "Requests in the decode batch (vLLM: vllm:num_requests_running)",
      (s) => s.activeSlots,
    );
    loadGauge(
      "denoformer_num_requests_waiting",
      "Requests queued for a cache slot (vLLM: vllm:num_requests_waiting)",
      (s) => s.queueDepth,
    );
    loadGauge(
      "denoformer_kv_cache_slots_used",
      "Key/value cache slots holding a sequence",
      (s) => s.activeSlots,
    );
    loadGauge(
      "denoformer_kv_cache_slots",
      "Key/value cache slots (--max-batch)",
      (s) => s.maxBatch,
    );
    loadGauge(
      "denoformer_kv_cache_usage_perc",
      "Fraction of cache slots in use, 0 to 1 (vLLM: vllm:kv_cache_usage_perc)",
      (s) => s.activeSlots / s.maxBatch,
    );
    this.#promptTokens = new Counter({
      name: "denoformer_prompt_tokens_total",
      help: "Prompt tokens of admitted requests (vLLM: vllm:prompt_tokens_total)",
      registers,
    });
    this.#generationTokens = new Counter({
      name: "denoformer_generation_tokens_total",
      help: "Tokens generated (vLLM: vllm:generation_tokens_total)",
      registers,
    });
    this.#finished = new Counter({
      name: "denoformer_request_success_total",
      help: "Requests that ended, by why: stop, eos, length or cancelled (vLLM: " +
        "vllm:request_success_total; its abort is cancelled here)",
      labelNames: ["finished_reason"],
      registers,
    });
    this.#errors = new Counter({
      name: "denoformer_request_errors_total",
      help: "Requests answered with an error, by API (grpc, http) and gRPC status code name " +
        "(TGI: tgi_request_failure)",
      labelNames: ["api", "code"],
      registers,
    });
    this.#failedSteps = new Counter({
      name: "denoformer_failed_steps_total",
      help: "Prefill or decode steps the engine failed; their requests end with INTERNAL",
      registers,
    });
    this.#ttft = new Histogram({
      name: "denoformer_time_to_first_token_seconds",
      help: "From queued to first generated token (vLLM: vllm:time_to_first_token_seconds)",
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.#tpot = new Histogram({
      name: "denoformer_time_per_output_token_seconds",
      help: "Between consecutive generated tokens of a request " +
        "(vLLM: vllm:time_per_output_token_seconds)",
      buckets: TPOT_BUCKETS,
      registers,
    });
    this.#e2e = new Histogram({
      name: "denoformer_e2e_request_latency_seconds",
      help: "From queued to the end of the request (vLLM: vllm:e2e_request_latency_seconds)",
      buckets: E2E_BUCKETS,
      registers,
    });
    this.#batch = new Histogram({
      name: "denoformer_batch_size",
      help: "Sequences in each decode step: the batch's occupancy (TGI: tgi_batch_current_size)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.#http = new Counter({
      name: "denoformer_http_requests_total",
      help: "HTTP requests answered, by route and status (vLLM: http_requests_total)",
      labelNames: ["handler", "status"],
      registers,
    });
    this.#httpInProgress = new Gauge({
      name: "denoformer_http_requests_in_progress",
      help: "HTTP requests being answered, streams included",
      labelNames: ["handler"],
      registers,
    });
  }

  /** Reads the load gauges from `scheduler` at each scrape. */
  watch(scheduler: { stats(): SchedulerStats }): void {
    this.#stats = () => scheduler.stats();
  }

  admitted(promptTokens: number): void {
    this.#promptTokens.inc(promptTokens);
  }

  token(first: boolean, seconds: number): void {
    this.#generationTokens.inc();
    (first ? this.#ttft : this.#tpot).observe(seconds);
  }

  finished(reason: FinishReason | "failed", seconds: number): void {
    if (reason === "failed") return; // counted as an error by the transport that answers it
    this.#finished.inc({ finished_reason: reason });
    this.#e2e.observe(seconds);
  }

  step(batch: number): void {
    this.#batch.observe(batch);
  }

  stepFailed(): void {
    this.#failedSteps.inc();
  }

  /** A request answered with an error; `code` is the gRPC status name (INVALID_ARGUMENT…). */
  error(api: "grpc" | "http", code: string): void {
    this.#errors.inc({ api, code });
  }

  /** An HTTP request began on `handler` (a route such as /v1/completions); call the result when it ends. */
  httpStarted(handler: string): (status: number) => void {
    this.#httpInProgress.inc({ handler });
    let ended = false;
    return (status) => {
      if (ended) return;
      ended = true;
      this.#httpInProgress.dec({ handler });
      this.#http.inc({ handler, status: String(status) });
    };
  }
}
