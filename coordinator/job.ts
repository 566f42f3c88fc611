/**
 * The job's state machine, free of transport: membership and leases, the two step barriers, the
 * committed step and data position, and the latest training state.
 *
 * A step runs in two phases. `awaitStep` forms the ring once every live worker is waiting; each
 * rank computes and all-reduces its gradients, then `reportReduced` answers all ranks together:
 * commit (everyone applies the same update) or abort (nobody does). A worker whose lease expires
 * aborts the step in flight; the survivors replay it in a new ring, so no sample is lost and only
 * the replayed step's samples are seen twice. A step that a rank itself fails (rather than dies in)
 * again and again is not transient: after `maxStepFailures` such aborts in a row the job fails.
 *
 * A worker whose weights are not at the committed step (a newcomer, a replacement) loads the
 * latest state first. When too few workers hold the committed weights to run a step without it,
 * one of them is asked to upload its state; when none is left, the job goes back to the latest
 * state it has and replays the steps after it (a {@linkcode RewindRecord} says which).
 */
import { InputError } from "../model/errors.ts";
import type { Logger } from "../model/log.ts";
import type { StepPlan, Verdict } from "../proto/mod.ts";
import { ringPlaces, type Topology } from "./topology.ts";

/** One committed or aborted step, as RUN/data_ranges.jsonl records it. */
export interface StepRecord {
  step: number;
  ring_version: number;
  world_size: number;
  committed: boolean;
  /** Per rank: the global sample indices [start, end) it trained on. */
  ranges: { worker: string; start: number; end: number }[];
  loss?: number;
  reason?: string;
}

/** What a worker reports about a step it applied (over AwaitStep; see coordinator.proto). */
export interface WorkerStepStats {
  step: number;
  /** Forward and backward passes, without the all-reduce. */
  computeSeconds: number;
  allReduceSeconds: number;
  allReduceBytes: number;
  /** Waiting at the coordinator's two barriers. */
  idleSeconds: number;
  lr: number;
  lossScale: number;
}

/** What the Job tells its observer; every method must return at once. */
export interface JobObserver {
  /** A step was committed or aborted. */
  stepEnded(record: StepRecord): void;
  valLoss(step: number, loss: number): void;
  workerStep(worker: string, stats: WorkerStepStats): void;
  /** The job went back to step `to`: the steps after it are replayed. */
  rewound(to: number): void;
  /** A worker joined, on `device` (as it reported it: "cpu", "cuda:0"…). */
  workerJoined(worker: string, device: string): void;
  /** A worker's lease expired: it is gone from the job. */
  workerLost(worker: string): void;
  /** Workers holding a lease. */
  workers(alive: number): void;
  /** The checkpoint after `step` was written, taking `seconds`. */
  checkpointSaved(step: number, seconds: number): void;
}

/**
 * The weights of `replayed_steps` were lost (no live worker held them, or the coordinator resumed
 * from an older checkpoint): training goes back to `rewind_to` and runs them again. Their earlier
 * committed records no longer describe the weights; the records that follow do.
 */
export interface RewindRecord {
  rewind_to: number;
  replayed_steps: number[];
  reason: string;
}

export interface JobOptions {
  steps: number;
  /** Samples each worker trains on per step (micro-batch × grad-accum). */
  samplesPerWorker: number;
  minWorkers: number;
  deadAfterMs: number;
  checkpointEvery: number;
  hashEvery: number;
  /** Rank 0 reports the validation loss every N steps (0: never). */
  evalEvery: number;
  /** Consecutive aborts by a rank's own error after which the job fails (default 5). */
  maxStepFailures?: number;
  /** Flat ring or two levels by host (default flat; see topology.ts). */
  topology?: Topology;
  /** Where a resumed job starts. */
  startStep?: number;
  startDataPosition?: number;
  log: Logger;
  now?: () => number;
  /**
   * Callbacks that write the run's files. One that throws (after its own retries) fails the job:
   * its workers are told that it is over, and `finished` rejects with that error.
   */
  onStep: (record: StepRecord) => void | Promise<void>;
  onRewind?: (record: RewindRecord) => void | Promise<void>;
  onValLoss: (step: number, loss: number) => void | Promise<void>;
  /**
   * Saves an uploaded state, which counts as the job's state once this resolves. A
   * {@linkcode RunFilesError} fails the job; any other error refuses the upload (it is bad).
   */
  onState: (step: number, bytes: Uint8Array) => void | Promise<void>;
  /** Hears what happens, for metrics (coordinator/metrics.ts). */
  observer?: JobObserver;
}

interface Member {
  id: string;
  name: string;
  peerAddress: string;
  /** As the worker's --device flag wrote it (`cpu`, `webgpu`, `cuda:0`). */
  device: string;
  lastSeen: number;
  haveStep: number;
  pending?: { resolve: (plan: StepPlan) => void; reject: (err: Error) => void };
}

interface InFlight {
  step: number;
  version: number;
  ring: Member[];
  reports: Map<string, { ok: boolean; loss: number; error: string }>;
  verdicts: Map<string, (v: Verdict) => void>;
}

/** A request that does not fit the job's state (the transport answers FAILED_PRECONDITION). */
export class JobStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobStateError";
  }
}

/** The run directory cannot be written (after retries): the job fails with this error. */
export class RunFilesError extends InputError {
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(path, message, options);
    this.name = "RunFilesError";
  }
}

/** A worker id the job does not know (it restarted, or the worker was declared dead). */
export class UnknownWorkerError extends JobStateError {
  constructor(id: string) {
    super(`Unknown worker "${id}": join again`);
    this.name = "UnknownWorkerError";
  }
}

export class Job {
  committedStep: number;
  dataPosition: number;
  ringVersion = 0;
  /** The newest saved training state (uploaded, or the checkpoint the job started from). */
  state: { step: number; bytes: Uint8Array } | undefined;
  readonly finished: Promise<void>;
  readonly #o: JobOptions;
  readonly #members = new Map<string, Member>();
  readonly #hashes = new Map<number, Map<string, string>>();
  #inFlight: InFlight | undefined;
  #nextId = 0;
  #stopAt: number;
  #finish!: () => void;
  #reject!: (err: Error) => void;
  /** Ctrl-C was pressed: the job ends at the first step boundary. */
  #stopping = false;
  /** Why the job failed; it then ends at the next step boundary. */
  #failure: Error | undefined;
  /** Steps aborted in a row by a rank's own error; a commit resets it. */
  #rankFailures = 0;
  /** The data position of `state` (the job's start position until a state is uploaded). */
  #stateDataPosition: number;
  /** When leases were last checked, to tell a coordinator that stalled from silent workers. */
  #leasesCheckedAt: number | undefined;

  constructor(options: JobOptions) {
    this.#o = options;
    this.committedStep = options.startStep ?? 0;
    this.dataPosition = options.startDataPosition ?? 0;
    this.#stateDataPosition = this.dataPosition;
    this.#stopAt = options.steps;
    this.finished = new Promise((resolve, reject) => {
      this.#finish = resolve;
      this.#reject = reject;
    });
  }

  get steps(): number {
    return this.#stopAt;
  }

  /** Live workers. */
  get workers(): number {
    return this.#members.size;
  }

  /**
   * Ends the job soon (Ctrl-C): after the step in flight commits, or at once when none is (the
   * job may be waiting for workers). A worker holding the last committed weights uploads them,
   * and they become the last checkpoint.
   */
  stopSoon(): void {
    this.#stopping = true;
    this.#stopAt = Math.min(this.#stopAt, this.committedStep + (this.#inFlight ? 1 : 0));
    this.#advance();
  }

  /** Fails the job (a run file cannot be written): it ends at the next step boundary. */
  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#o.log.error("job failed", { error: err.message });
    this.#abort(`the job failed: ${err.message}`);
    this.#advance();
  }

  join(name: string, peerAddress: string, device = "cpu"): string {
    const id = `w${this.#nextId++}-${name}`;
    this.#members.set(id, { id, name, peerAddress, device, lastSeen: this.#now(), haveStep: -1 });
    this.#o.observer?.workerJoined(id, device);
    this.#o.observer?.workers(this.#members.size);
    this.#o.log.info("worker joined", {
      worker: id,
      peer: peerAddress,
      device,
      workers: this.#members.size,
    });
    return id;
  }

  heartbeat(id: string): number {
    this.#member(id).lastSeen = this.#now();
    return this.ringVersion;
  }

  /**
   * Resolves when the ring for the next step is formed (or the job is done). `lastStep` is what
   * the worker measured of the step it applied last.
   */
  awaitStep(
    id: string,
    haveStep: number,
    weightsHash: string,
    valLoss = -1,
    lastStep?: WorkerStepStats,
  ): Promise<StepPlan> {
    const m = this.#member(id);
    m.lastSeen = this.#now();
    m.haveStep = haveStep;
    if (weightsHash) this.#checkHash(haveStep, id, weightsHash);
    if (valLoss >= 0) {
      this.#o.observer?.valLoss(haveStep, valLoss);
      void this.#written(() => this.#o.onValLoss(haveStep, valLoss));
    }
    if (lastStep) this.#o.observer?.workerStep(id, lastStep);
    m.pending?.reject(new Error("superseded by a newer AwaitStep"));
    const plan = new Promise<StepPlan>((resolve, reject) => (m.pending = { resolve, reject }));
    this.#advance();
    return plan;
  }

  /** Resolves with the verdict for the step once every rank reported, or at once on abort. */
  reportReduced(
    id: string,
    step: number,
    version: number,
    ok: boolean,
    loss: number,
    error: string,
  ): Promise<Verdict> {
    this.#member(id).lastSeen = this.#now();
    const f = this.#inFlight;
    if (!f || f.step !== step || f.version !== version) return Promise.resolve(abortVerdict);
    f.reports.set(id, { ok, loss, error });
    const verdict = new Promise<Verdict>((resolve) => f.verdicts.set(id, resolve));
    if (!ok) {
      this.#abort(`rank of ${id} failed: ${error}`);
      this.#rankFailures++;
      if (this.#rankFailures >= (this.#o.maxStepFailures ?? 5)) {
        this.fail(
          new Error(
            `Step ${step + 1} failed ${this.#rankFailures} times in a row, last on ${id}: ${error}`,
          ),
        );
      }
    } else if (f.reports.size === f.ring.length) void this.#commit(f);
    return verdict;
  }

  /**
   * A worker's state after `step`, once saved. A state that cannot be saved is refused; a run
   * directory that cannot be written fails the job (the uploader is not to blame: its upload
   * succeeds, and it hears that the job is over).
   */
  async uploadState(step: number, bytes: Uint8Array): Promise<void> {
    if (step !== this.committedStep) {
      throw new JobStateError(
        `State of step ${step} arrived but the job is at step ${this.committedStep}`,
      );
    }
    try {
      const started = performance.now();
      await this.#o.onState(step, bytes);
      this.#o.observer?.checkpointSaved(step, (performance.now() - started) / 1000);
      this.state = { step, bytes };
      this.#stateDataPosition = this.dataPosition;
    } catch (err) {
      if (!(err instanceof RunFilesError)) throw err;
      this.fail(err);
    } finally {
      this.#advance();
    }
  }

  /**
   * Declares workers whose lease expired dead; call it every `intervalMs`. Time in which this
   * process itself did not run (a long synchronous save, a frozen or starved process) does not
   * count against the workers: their heartbeats may be waiting unread in its sockets.
   */
  expireLeases(intervalMs: number): void {
    const now = this.#now();
    const stalledMs = now - (this.#leasesCheckedAt ?? now) - intervalMs;
    this.#leasesCheckedAt = now;
    if (stalledMs > 0) {
      for (const m of this.#members.values()) m.lastSeen = Math.min(now, m.lastSeen + stalledMs);
    }
    const cutoff = now - this.#o.deadAfterMs;
    for (const m of [...this.#members.values()]) {
      if (m.lastSeen >= cutoff) continue;
      this.#members.delete(m.id);
      m.pending?.reject(new UnknownWorkerError(m.id));
      this.#o.log.warn("worker lease expired", { worker: m.id, workers: this.#members.size });
      this.#o.observer?.workerLost(m.id);
      this.#o.observer?.workers(this.#members.size);
      if (this.#inFlight?.ring.includes(m)) this.#abort(`worker ${m.id} stopped answering`);
    }
    this.#advance();
  }

  #member(id: string): Member {
    const m = this.#members.get(id);
    if (!m) throw new UnknownWorkerError(id);
    return m;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * Once everyone alive is waiting: forms the next ring, or asks for the state that lets the
   * others in, or goes back to the latest state when nobody holds the committed weights, or
   * finishes the job.
   */
  #advance(): void {
    if (this.#inFlight) return;
    const live = [...this.#members.values()];
    if (live.some((m) => !m.pending)) return;
    const holders = () => live.filter((m) => m.haveStep === this.committedStep);
    const saved = () => this.state?.step === this.committedStep;
    if (this.#failure || this.committedStep >= this.#stopAt) {
      // The last committed weights are saved before the job ends, when a live worker holds them.
      if (!this.#failure && !saved() && holders().length > 0) return this.#askState(holders()[0]);
      return this.#end(live);
    }
    if (live.length < this.#o.minWorkers || live.length === 0) return;
    if (holders().length === 0 && !saved()) this.#rewind();
    const ring = saved() ? live : holders();
    if (ring.length === 0) return; // only workers that cannot load the state: wait for others
    if (ring.length < this.#o.minWorkers) return this.#askState(ring[0]);
    const next = this.committedStep + 1;
    const version = ++this.ringVersion;
    const places = ringPlaces(ring.map((m) => m.peerAddress), this.#o.topology ?? "flat");
    this.#inFlight = {
      step: this.committedStep,
      version,
      ring,
      reports: new Map(),
      verdicts: new Map(),
    };
    ring.forEach((m, rank) =>
      this.#resolve(m, {
        done: false,
        step: this.committedStep,
        data_position: this.dataPosition,
        rank,
        world_size: ring.length,
        ring_version: version,
        ...places[rank],
        load_state: m.haveStep !== this.committedStep,
        report_hash: next % this.#o.hashEvery === 0 || next >= this.#stopAt,
        evaluate: rank === 0 && this.#o.evalEvery > 0 &&
          (next % this.#o.evalEvery === 0 || next >= this.#stopAt),
        upload_state: false,
        error: "",
      })
    );
    this.#o.log.debug("step started", { step: this.committedStep, world: ring.length, version });
  }

  /** Tells every live worker that the job is over, and settles `finished`. */
  #end(live: Member[]): void {
    const error = this.#failure?.message ?? "";
    for (const m of live) {
      this.#resolve(m, { ...emptyPlan, done: true, step: this.committedStep, error });
    }
    if (this.#failure) this.#reject(this.#failure);
    else this.#finish();
  }

  /** Asks `m`, which holds the committed weights, to upload them (then to wait again). */
  #askState(m: Member): void {
    this.#o.log.info("asking a worker for the committed state", {
      worker: m.id,
      step: this.committedStep,
    });
    this.#resolve(m, { ...emptyPlan, step: this.committedStep, upload_state: true });
  }

  /**
   * No live worker holds the committed weights: go back to the latest state (without one, to the
   * start, whose weights every new worker makes from the seed) and replay the steps after it.
   */
  #rewind(): void {
    const to = this.state?.step ?? this.#o.startStep ?? 0;
    if (to >= this.committedStep) return;
    const steps = Array.from({ length: this.committedStep - to }, (_, i) => to + 1 + i);
    const reason = `no live worker holds the weights of step ${this.committedStep}`;
    this.#o.log.warn("going back to the latest state", { step: to, replayed: steps, reason });
    this.committedStep = to;
    this.dataPosition = this.#stateDataPosition;
    for (const s of steps) this.#hashes.delete(s);
    this.#o.observer?.rewound(to);
    void this.#written(() => this.#o.onRewind?.({ rewind_to: to, replayed_steps: steps, reason }));
  }

  /** Runs a callback that writes run files; its failure fails the job. Resolves with success. */
  async #written(write: () => unknown): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  #resolve(m: Member, plan: StepPlan): void {
    const p = m.pending!;
    m.pending = undefined;
    p.resolve(plan);
  }

  async #commit(f: InFlight): Promise<void> {
    this.#inFlight = undefined;
    this.#rankFailures = 0;
    const loss = f.reports.get(f.ring[0].id)!.loss;
    const record = this.#record(f, true, { loss });
    // A step the run's files do not record is not committed: nobody applies it.
    if (!await this.#written(() => this.#o.onStep(record))) {
      for (const v of f.verdicts.values()) v(abortVerdict);
      return this.#advance();
    }
    this.committedStep++;
    this.dataPosition += this.#o.samplesPerWorker * f.ring.length;
    this.#o.observer?.stepEnded(record);
    // Rank 0 uploads its state when a checkpoint is due, at the end, or for workers waiting to join.
    const waiting = [...this.#members.values()].some((m) => !f.ring.includes(m));
    const every = this.#o.checkpointEvery;
    const upload = waiting || this.committedStep >= this.#stopAt ||
      (every > 0 && this.committedStep % every === 0);
    for (const [id, v] of f.verdicts) {
      v({ commit: true, upload_state: upload && id === f.ring[0].id });
    }
    this.#advance();
  }

  #abort(reason: string): void {
    const f = this.#inFlight;
    if (!f) return;
    this.#inFlight = undefined;
    this.ringVersion++;
    // Stopping after this step, which will not commit: stop before it instead.
    if (this.#stopping) this.#stopAt = Math.min(this.#stopAt, this.committedStep);
    this.#o.log.warn("step aborted", { step: f.step, reason });
    const record = this.#record(f, false, { reason });
    this.#o.observer?.stepEnded(record);
    void this.#written(() => this.#o.onStep(record));
    for (const v of f.verdicts.values()) v(abortVerdict);
    // Reports that arrive later see no step in flight and are answered "abort" at once.
  }

  #record(f: InFlight, committed: boolean, extra: { loss?: number; reason?: string }): StepRecord {
    const per = this.#o.samplesPerWorker;
    return {
      step: f.step + 1,
      ring_version: f.version,
      world_size: f.ring.length,
      committed,
      ranges: f.ring.map((m, r) => ({
        worker: m.id,
        start: this.dataPosition + r * per,
        end: this.dataPosition + (r + 1) * per,
      })),
      ...extra,
    };
  }

  #checkHash(step: number, id: string, hash: string): void {
    let byWorker = this.#hashes.get(step);
    if (!byWorker) this.#hashes.set(step, byWorker = new Map());
    byWorker.set(id, hash);
    const distinct = new Set(byWorker.values());
    if (distinct.size > 1) {
      this.#o.log.error("ranks hold different weights", {
        step,
        hashes: Object.fromEntries(byWorker),
      });
    }
  }

  /** Steps whose weight hashes were compared, and whether all ranks agreed. */
  hashChecks(): { step: number; workers: number; identical: boolean }[] {
    return [...this.#hashes].map(([step, m]) => ({
      step,
      workers: m.size,
      identical: new Set(m.values()).size === 1,
    }));
  }
}

const emptyPlan: StepPlan = {
  done: false,
  step: 0,
  data_position: 0,
  rank: 0,
  world_size: 0,
  ring_version: 0,
  right_address: "",
  load_state: false,
  report_hash: false,
  evaluate: false,
  upload_state: false,
  error: "",
  local_size: 0,
  local_index: 0,
  local_peers: [],
  host_rank: 0,
  host_count: 0,
};

const abortVerdict: Verdict = { commit: false, upload_state: false };
