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
 */
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
  onStep: (record: StepRecord) => void | Promise<void>;
  onValLoss: (step: number, loss: number) => void | Promise<void>;
  onState: (step: number, bytes: Uint8Array) => void | Promise<void>;
}

interface Member {
  id: string;
  name: string;
  peerAddress: string;
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

/** A worker id the job does not know (it restarted, or the worker was declared dead). */
export class UnknownWorkerError extends Error {
  constructor(id: string) {
    super(`Unknown worker "${id}": join again`);
    this.name = "UnknownWorkerError";
  }
}

export class Job {
  committedStep: number;
  dataPosition: number;
  ringVersion = 0;
  /** The newest uploaded training state. */
  state: { step: number; bytes: Uint8Array } | undefined;
  readonly finished: Promise<void>;
  readonly #o: JobOptions;
  readonly #members = new Map<string, Member>();
  readonly #hashes = new Map<number, Map<string, string>>();
  #inFlight: InFlight | undefined;
  #nextId = 0;
  #stopAt: number;
  #finish!: () => void;
  #fail!: (err: Error) => void;
  /** Steps aborted in a row by a rank's own error; a commit resets it. */
  #rankFailures = 0;

  constructor(options: JobOptions) {
    this.#o = options;
    this.committedStep = options.startStep ?? 0;
    this.dataPosition = options.startDataPosition ?? 0;
    this.#stopAt = options.steps;
    this.finished = new Promise((resolve, reject) => {
      this.#finish = resolve;
      this.#fail = reject;
    });
  }

  get steps(): number {
    return this.#stopAt;
  }

  /** Live workers. */
  get workers(): number {
    return this.#members.size;
  }

  /** Ends the job after the next commit (Ctrl-C): that step's state becomes the last checkpoint. */
  stopSoon(): void {
    this.#stopAt = Math.min(this.#stopAt, this.committedStep + 1);
    this.#advance();
  }

  join(name: string, peerAddress: string): string {
    const id = `w${this.#nextId++}-${name}`;
    this.#members.set(id, { id, name, peerAddress, lastSeen: this.#now(), haveStep: -1 });
    this.#o.log.info("worker joined", {
      worker: id,
      peer: peerAddress,
      workers: this.#members.size,
    });
    return id;
  }

  heartbeat(id: string): number {
    this.#member(id).lastSeen = this.#now();
    return this.ringVersion;
  }

  /** Resolves when the ring for the next step is formed (or the job is done). */
  awaitStep(id: string, haveStep: number, weightsHash: string, valLoss = -1): Promise<StepPlan> {
    const m = this.#member(id);
    m.lastSeen = this.#now();
    m.haveStep = haveStep;
    if (weightsHash) this.#checkHash(haveStep, id, weightsHash);
    if (valLoss >= 0) void this.#o.onValLoss(haveStep, valLoss);
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
      if (this.#failed) {
        this.#fail(
          new Error(
            `Step ${step + 1} failed ${this.#rankFailures} times in a row, last on ${id}: ${error}`,
          ),
        );
        this.#advance();
      }
    } else if (f.reports.size === f.ring.length) void this.#commit(f);
    return verdict;
  }

  /** Rank 0's state after `step`. */
  async uploadState(step: number, bytes: Uint8Array): Promise<void> {
    if (step !== this.committedStep) {
      throw new Error(`State of step ${step} arrived but the job is at step ${this.committedStep}`);
    }
    this.state = { step, bytes };
    await this.#o.onState(step, bytes);
    this.#advance();
  }

  /** Declares workers whose lease expired dead; call it periodically. */
  expireLeases(): void {
    const cutoff = this.#now() - this.#o.deadAfterMs;
    for (const m of [...this.#members.values()]) {
      if (m.lastSeen >= cutoff) continue;
      this.#members.delete(m.id);
      m.pending?.reject(new UnknownWorkerError(m.id));
      this.#o.log.warn("worker lease expired", { worker: m.id, workers: this.#members.size });
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

  /** Forms the next ring when everyone alive is waiting, or finishes the job. */
  #advance(): void {
    if (this.#inFlight) return;
    const live = [...this.#members.values()];
    if (live.some((m) => !m.pending)) return;
    const done = this.#failed ||
      this.committedStep >= this.#stopAt && this.state?.step === this.committedStep;
    if (done) {
      for (const m of live) {
        this.#resolve(m, { ...emptyPlan, done: true, step: this.committedStep });
      }
      this.#finish();
      return;
    }
    if (this.committedStep >= this.#stopAt) return; // waiting for the final state upload
    const haveState = this.state?.step === this.committedStep;
    const ring = live.filter((m) => m.haveStep === this.committedStep || haveState);
    if (ring.length < this.#o.minWorkers || ring.length === 0) return;
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
      })
    );
    this.#o.log.debug("step started", { step: this.committedStep, world: ring.length, version });
  }

  /** Whether rank failures in a row have reached the limit (the job is then over). */
  get #failed(): boolean {
    return this.#rankFailures >= (this.#o.maxStepFailures ?? 5);
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
    this.committedStep++;
    this.dataPosition += this.#o.samplesPerWorker * f.ring.length;
    await this.#o.onStep(record);
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
    this.#o.log.warn("step aborted", { step: f.step, reason });
    void this.#o.onStep(this.#record(f, false, { reason }));
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
  local_size: 0,
  local_index: 0,
  local_peers: [],
  host_rank: 0,
  host_count: 0,
};

const abortVerdict: Verdict = { commit: false, upload_state: false };
