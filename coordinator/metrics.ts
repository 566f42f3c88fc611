/**
 * The training job's numbers, kept in process and exported as Prometheus series. The Job reports
 * to it as its {@linkcode JobObserver}; anything in the coordinator process (the `/metrics`
 * endpoint, a dashboard) reads the same numbers from `snapshot()` or hears each one as it happens
 * through `subscribe()`, so nothing has to parse the text format to use them. docs/metrics.md
 * lists the series.
 *
 * @example
 * ```ts
 * const metrics = new TrainingMetrics({ tokensPerWorkerStep: 8 * 128 });
 * const job = new Job({ ...options, observer: metrics });
 * metrics.subscribe((e) => { if (e.kind === "step") console.log(e.snapshot.loss); });
 * serveMetrics(metrics.registry, { host: "127.0.0.1", port: 9100 });
 * ```
 */
import { Counter, Gauge, Histogram, metricsRegistry, type Registry } from "../model/metrics/mod.ts";
import type { JobObserver, StepRecord, WorkerStepStats } from "./job.ts";

/** A worker's place in the job: joined, trained in a committed step, lost its lease, had its place taken. */
export type WorkerState = "joining" | "training" | "dead" | "replaced";

/** One worker as the job saw it. */
export interface WorkerSnapshot {
  /** As the worker reported it when it joined ("cpu", "cuda:0"…). */
  device: string;
  state: WorkerState;
  /** The worker that joined after this one died, in its place. */
  replacedBy?: string;
  /** Steps it reported timings for. */
  steps: number;
  /** Totals over those steps. */
  computeSeconds: number;
  allReduceSeconds: number;
  allReduceBytes: number;
  idleSeconds: number;
  /** The last step it reported. */
  last?: WorkerStepStats;
}

/** The latest numbers of the job. */
export interface TrainingSnapshot {
  step: number;
  loss?: number;
  valLoss?: number;
  lr?: number;
  lossScale?: number;
  stepSeconds?: number;
  tokensPerSecond?: number;
  /** Tokens trained on up to the last committed step (counting those before a resume). */
  tokens?: number;
  workersAlive: number;
  stepsCommitted: number;
  stepsAborted: number;
  stepsReplayed: number;
  checkpointStep?: number;
  checkpointSeconds?: number;
  /** Every worker that joined, by the id the coordinator gave it. */
  workers: Record<string, WorkerSnapshot>;
}

/** One thing that happened, with the snapshot after it. */
export type TrainingEvent =
  | { kind: "step"; record: StepRecord; snapshot: TrainingSnapshot }
  | { kind: "valLoss"; step: number; loss: number; snapshot: TrainingSnapshot }
  | { kind: "worker"; worker: string; stats: WorkerStepStats; snapshot: TrainingSnapshot }
  /** The first report of a step's learning rate and loss scale (every rank applies the same). */
  | { kind: "schedule"; step: number; lr: number; lossScale: number; snapshot: TrainingSnapshot }
  | { kind: "workers"; alive: number; snapshot: TrainingSnapshot }
  | { kind: "joined"; worker: string; device: string; snapshot: TrainingSnapshot }
  | { kind: "lost"; worker: string; snapshot: TrainingSnapshot }
  | { kind: "checkpoint"; step: number; seconds: number; snapshot: TrainingSnapshot }
  /** The job went back to step `to`; the steps after it will be committed again. */
  | { kind: "rewind"; to: number; snapshot: TrainingSnapshot };

/** The job's numbers: in process, and as a Prometheus registry. */
export class TrainingMetrics implements JobObserver {
  readonly registry: Registry;
  readonly #tokensPerWorkerStep: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(e: TrainingEvent) => void>();
  readonly #aborted = new Set<number>();
  /** The last step whose learning rate was reported. */
  #scheduleStep = -1;
  /** Dead workers not replaced yet, in the order they died. */
  readonly #dead: string[] = [];
  #lastCommitAt: number;
  readonly #s: TrainingSnapshot = {
    step: 0,
    workersAlive: 0,
    stepsCommitted: 0,
    stepsAborted: 0,
    stepsReplayed: 0,
    workers: {},
  };
  readonly #series: ReturnType<typeof series>;

  constructor(options: { tokensPerWorkerStep: number; registry?: Registry; now?: () => number }) {
    this.registry = options.registry ?? metricsRegistry();
    this.#tokensPerWorkerStep = options.tokensPerWorkerStep;
    this.#now = options.now ?? (() => performance.now());
    this.#lastCommitAt = this.#now();
    this.#series = series(this.registry);
  }

  /** The latest numbers (a copy). */
  snapshot(): TrainingSnapshot {
    return structuredClone(this.#s);
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: (e: TrainingEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stepEnded(r: StepRecord): void {
    const s = this.#s, m = this.#series;
    if (!r.committed) {
      s.stepsAborted++;
      m.aborted.inc();
      this.#aborted.add(r.step);
    } else {
      const now = this.#now(), seconds = (now - this.#lastCommitAt) / 1000;
      this.#lastCommitAt = now;
      s.step = r.step;
      s.loss = r.loss;
      s.stepSeconds = seconds;
      s.tokensPerSecond = this.#tokensPerWorkerStep * r.world_size / seconds;
      const last = r.ranges.at(-1);
      // Sample indices are global and survive a resume, so the count includes the steps before it.
      if (last) s.tokens = last.end * this.#tokensPerWorkerStep / (last.end - last.start);
      for (const { worker } of r.ranges) {
        const w = s.workers[worker];
        if (w?.state === "joining") w.state = "training";
      }
      s.stepsCommitted++;
      m.committed.inc();
      if (this.#aborted.delete(r.step)) {
        s.stepsReplayed++;
        m.replayed.inc();
      }
      m.step.set(r.step);
      if (r.loss !== undefined) m.loss.set(r.loss);
      m.stepSeconds.observe(seconds);
      m.tokensPerSecond.set(s.tokensPerSecond);
      if (s.tokens !== undefined) m.tokens.set(s.tokens);
      m.worldSize.set(r.world_size);
    }
    this.#emit({ kind: "step", record: r, snapshot: this.snapshot() });
  }

  valLoss(step: number, loss: number): void {
    this.#s.valLoss = loss;
    this.#series.valLoss.set(loss);
    this.#emit({ kind: "valLoss", step, loss, snapshot: this.snapshot() });
  }

  workerStep(worker: string, w: WorkerStepStats): void {
    const s = this.#s, m = this.#series, labels = { worker };
    s.lr = w.lr;
    s.lossScale = w.lossScale;
    m.lr.set(w.lr);
    m.lossScale.set(w.lossScale);
    const t = s.workers[worker] ??= newWorker("", "training");
    t.steps++;
    t.computeSeconds += w.computeSeconds;
    t.allReduceSeconds += w.allReduceSeconds;
    t.allReduceBytes += w.allReduceBytes;
    t.idleSeconds += w.idleSeconds;
    t.last = { ...w };
    m.compute.inc(labels, w.computeSeconds);
    m.allReduceSeconds.inc(labels, w.allReduceSeconds);
    m.allReduceBytes.inc(labels, w.allReduceBytes);
    m.idle.inc(labels, w.idleSeconds);
    this.#emit({ kind: "worker", worker, stats: w, snapshot: this.snapshot() });
    if (w.step > this.#scheduleStep) {
      this.#scheduleStep = w.step;
      const { step, lr, lossScale } = w;
      this.#emit({ kind: "schedule", step, lr, lossScale, snapshot: this.snapshot() });
    }
  }

  rewound(to: number): void {
    this.#s.step = to;
    // The replayed steps report their learning rate again.
    this.#scheduleStep = to;
    this.#series.step.set(to);
    this.#emit({ kind: "rewind", to, snapshot: this.snapshot() });
  }

  /** A newcomer takes the place of the longest-dead worker not yet replaced. */
  workerJoined(worker: string, device: string): void {
    const s = this.#s;
    s.workers[worker] = newWorker(device, "joining");
    const dead = this.#dead.shift();
    if (dead) {
      s.workers[dead].state = "replaced";
      s.workers[dead].replacedBy = worker;
    }
    this.#series.joined.inc();
    this.#emit({ kind: "joined", worker, device, snapshot: this.snapshot() });
  }

  workerLost(worker: string): void {
    const w = this.#s.workers[worker] ??= newWorker("", "dead");
    w.state = "dead";
    this.#dead.push(worker);
    this.#series.lost.inc();
    this.#emit({ kind: "lost", worker, snapshot: this.snapshot() });
  }

  workers(alive: number): void {
    this.#s.workersAlive = alive;
    this.#series.workersAlive.set(alive);
    this.#emit({ kind: "workers", alive, snapshot: this.snapshot() });
  }

  checkpointSaved(step: number, seconds: number): void {
    this.#s.checkpointStep = step;
    this.#s.checkpointSeconds = seconds;
    this.#series.checkpointSeconds.observe(seconds);
    this.#series.checkpointStep.set(step);
    this.#emit({ kind: "checkpoint", step, seconds, snapshot: this.snapshot() });
  }

  #emit(e: TrainingEvent): void {
    for (const listener of this.#listeners) listener(e);
  }
}

/** RUN/metrics.jsonl's line for a committed step, from its record and the snapshot after it. */
export function stepLine(r: StepRecord, s: TrainingSnapshot): StepLine {
  return {
    step: r.step,
    loss: r.loss!,
    world_size: r.world_size,
    tokens: s.tokens,
    tokens_per_s: s.tokensPerSecond!,
  };
}

/** A committed step's line of RUN/metrics.jsonl. */
export interface StepLine extends MetricsLine {
  loss: number;
  world_size: number;
  /** Tokens trained on so far (all workers, counting those before a resume). */
  tokens?: number;
  tokens_per_s: number;
}

/** RUN/metrics.jsonl's line for a step's learning rate and loss scale. */
export function scheduleLine(e: { step: number; lr: number; lossScale: number }): MetricsLine {
  return { step: e.step, lr: e.lr, loss_scale: e.lossScale };
}

/** A line of RUN/metrics.jsonl. */
export type MetricsLine = { step: number } & Record<string, unknown>;

function newWorker(device: string, state: WorkerState): WorkerSnapshot {
  return {
    device,
    state,
    steps: 0,
    computeSeconds: 0,
    allReduceSeconds: 0,
    allReduceBytes: 0,
    idleSeconds: 0,
  };
}

/** The Prometheus series, named `denoformer_train_*` (job) and `denoformer_worker_*` (per worker). */
function series(registry: Registry) {
  const registers = [registry];
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  const perWorker = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["worker"], registers });
  return {
    step: gauge("denoformer_train_step", "The last committed optimizer step"),
    loss: gauge("denoformer_train_loss", "Training loss of the last committed step (rank 0's)"),
    valLoss: gauge("denoformer_train_val_loss", "The last validation loss"),
    lr: gauge("denoformer_train_learning_rate", "Learning rate of the last applied step"),
    lossScale: gauge("denoformer_train_loss_scale", "fp16 loss scale (1 in fp32 and bf16)"),
    tokensPerSecond: gauge(
      "denoformer_train_tokens_per_second",
      "Tokens trained per second over the last step, all workers together",
    ),
    tokens: gauge(
      "denoformer_train_tokens",
      "Tokens trained on up to the last committed step, those before a resume included",
    ),
    worldSize: gauge("denoformer_train_world_size", "Ranks in the last committed step's ring"),
    workersAlive: gauge("denoformer_train_workers_alive", "Workers holding a lease"),
    joined: counter("denoformer_train_workers_joined_total", "Workers that joined the job"),
    lost: counter(
      "denoformer_train_workers_lost_total",
      "Workers whose lease expired (killed, crashed or cut off)",
    ),
    stepSeconds: new Histogram({
      name: "denoformer_train_step_seconds",
      help: "From one committed step to the next",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    committed: counter("denoformer_train_steps_committed_total", "Steps committed"),
    aborted: counter(
      "denoformer_train_steps_aborted_total",
      "Steps aborted (a worker died or failed); they are replayed",
    ),
    replayed: counter(
      "denoformer_train_steps_replayed_total",
      "Committed steps that had been aborted before",
    ),
    checkpointSeconds: new Histogram({
      name: "denoformer_train_checkpoint_seconds",
      help: "Writing a checkpoint (verified files, atomic rename)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    checkpointStep: gauge("denoformer_train_checkpoint_step", "Step of the last checkpoint"),
    compute: perWorker(
      "denoformer_worker_compute_seconds_total",
      "Forward and backward passes of committed steps",
    ),
    allReduceSeconds: perWorker(
      "denoformer_worker_allreduce_seconds_total",
      "Ring all-reduce of committed steps",
    ),
    allReduceBytes: perWorker(
      "denoformer_worker_allreduce_bytes_total",
      "Bytes the worker sent to its ring neighbour in committed steps",
    ),
    idle: perWorker(
      "denoformer_worker_idle_seconds_total",
      "Waiting at the step barriers (for the ring to form, for the other ranks' reports)",
    ),
  };
}
