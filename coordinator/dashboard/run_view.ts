/**
 * One run as the dashboard shows it: the history the charts draw (the lines of RUN/metrics.jsonl,
 * as columns) and the run's present state (status, ring, steps aborted and replayed, workers,
 * checkpoints, config). It is fed either live, from the coordinator's own TrainingMetrics
 * (live.ts), or from a run directory's files (run_dir.ts), through the same methods, so a finished
 * run opened later looks as it did while it trained.
 *
 * History only grows, so a page that has seen the first N rows is sent the rest; when a run's files
 * are rewritten (a resume drops the steps after its checkpoint) the view starts a new generation
 * and pages take it whole.
 *
 * @example
 * ```ts
 * const view = new RunView("runs/a");
 * view.addLine({ step: 1, loss: 5.5, tokens: 2048 });
 * view.onChange(() => console.log(view.rows.length));
 * ```
 */
import type { StepRecord } from "../job.ts";
import type { WorkerSnapshot } from "../metrics.ts";

/** The columns of a history row, named as RUN/metrics.jsonl names them. */
export const COLUMNS = [
  "step",
  "tokens",
  "loss",
  "val_loss",
  "lr",
  "loss_scale",
  "tokens_per_s",
] as const;

/** One line of metrics.jsonl as a row of {@linkcode COLUMNS}; null where the line has no value. */
export type Row = (number | null)[];

/** Where a run is. */
export type RunStatus = "waiting" | "training" | "finished" | "failed" | "stopped";

/** A step that was aborted, and why. */
export interface AbortedStep {
  step: number;
  ringVersion: number;
  reason: string;
  /** Whether the step was later committed (by the ring that re-formed). */
  replayed: boolean;
}

/** A checkpoint directory of the run. */
export interface CheckpointInfo {
  step: number;
  bytes: number;
  /** When it was written (ms since the epoch). */
  time: number;
  /** Deleted since (only the newest `keepLast` are kept). */
  removed?: boolean;
}

/** Everything but the history: small, sent whole on every change. */
export interface RunState {
  /** The run directory as given. */
  name: string;
  status: RunStatus;
  /** Fed by the coordinator itself (not read from files). */
  live: boolean;
  /** Optimizer steps the job was asked for. */
  steps?: number;
  /** The last committed step. */
  step: number;
  tokens?: number;
  tokensPerSecond?: number;
  /** The ring of the last step formed: ranks in order, and its membership version. */
  ring?: { version: number; step: number; order: string[] };
  stepsCommitted: number;
  stepsAborted: number;
  stepsReplayed: number;
  /** The latest aborted steps (at most {@linkcode MAX_ABORTS}). */
  aborts: AbortedStep[];
  /** Every worker that joined; absent where the run's files do not say (see run_dir.ts). */
  workers?: Record<string, WorkerSnapshot>;
  checkpoints: CheckpointInfo[];
  /** The job config the run trained with (RUN/job.json). */
  config?: unknown;
  /** Pages that go with the run, by label (the playground of the model it trained). */
  links: Record<string, string>;
  /** Why the run failed, or what could not be read. */
  problems: string[];
}

/** Aborted steps kept for the page; the count covers all of them. */
export const MAX_ABORTS = 50;

export class RunView {
  /** The history, append-only within a generation. */
  rows: Row[] = [];
  /** Bumped whenever `rows` is replaced rather than appended to. */
  generation = 0;
  /** Bumped on every change. */
  version = 0;
  state: RunState;
  readonly #listeners = new Set<() => void>();
  /** Tokens at each step, for lines that lack them (validation and learning-rate lines). */
  #tokensAt = new Map<number, number>();
  /** Steps aborted and not committed since. */
  #pending = new Map<number, AbortedStep[]>();

  constructor(name: string) {
    this.state = emptyState(name);
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Appends one metrics line (an object of metrics.jsonl); lines without a step are ignored. */
  addLine(line: Record<string, unknown>): void {
    const step = line.step;
    if (typeof step !== "number") return;
    const value = (key: string) => typeof line[key] === "number" ? line[key] as number : null;
    const row = COLUMNS.map(value);
    const tokens = value("tokens");
    if (tokens !== null) this.#tokensAt.set(step, tokens);
    else row[1] = this.#tokensAt.get(step) ?? null;
    this.rows.push(row);
    const s = this.state;
    if (value("loss") !== null) {
      s.step = Math.max(s.step, step);
      s.tokens = row[1] ?? s.tokens;
      s.tokensPerSecond = value("tokens_per_s") ?? s.tokensPerSecond;
    }
    this.#changed();
  }

  /** Records a committed or aborted step (a line of RUN/data_ranges.jsonl). */
  addStepRecord(r: StepRecord): void {
    const s = this.state;
    s.ring = { version: r.ring_version, step: r.step, order: r.ranges.map((x) => x.worker) };
    if (r.committed) {
      s.stepsCommitted++;
      const aborted = this.#pending.get(r.step);
      if (aborted) {
        s.stepsReplayed++;
        for (const a of aborted) a.replayed = true;
        this.#pending.delete(r.step);
      }
    } else {
      s.stepsAborted++;
      const a = {
        step: r.step,
        ringVersion: r.ring_version,
        reason: r.reason ?? "",
        replayed: false,
      };
      s.aborts.push(a);
      if (s.aborts.length > MAX_ABORTS) s.aborts.shift();
      this.#pending.set(r.step, [...this.#pending.get(r.step) ?? [], a]);
    }
    this.#changed();
  }

  /** Changes the present state. */
  set(change: Partial<RunState>): void {
    Object.assign(this.state, change);
    this.#changed();
  }

  /**
   * Drops the history after step `to`, as the coordinator drops those lines from metrics.jsonl when
   * the job goes back to its latest state: the replayed steps come again. Pages reload the rows.
   */
  rewind(to: number): void {
    this.rows = this.rows.filter((row) => row[0]! <= to);
    for (const step of this.#tokensAt.keys()) if (step > to) this.#tokensAt.delete(step);
    this.state.step = Math.min(this.state.step, to);
    this.generation++;
    this.#changed();
  }

  /** Forgets everything the run's files said (they were rewritten), keeping name, live and links. */
  restart(): void {
    const { name, live, links } = this.state;
    this.rows = [];
    this.generation++;
    this.#tokensAt = new Map();
    this.#pending = new Map();
    this.state = { ...emptyState(name), live, links };
    this.#changed();
  }

  #changed(): void {
    this.version++;
    for (const listener of this.#listeners) listener();
  }
}

function emptyState(name: string): RunState {
  return {
    name,
    status: "waiting",
    live: false,
    step: 0,
    stepsCommitted: 0,
    stepsAborted: 0,
    stepsReplayed: 0,
    aborts: [],
    checkpoints: [],
    links: {},
    problems: [],
  };
}
