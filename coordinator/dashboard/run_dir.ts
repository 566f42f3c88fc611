/**
 * Feeds a {@linkcode RunView} from a run directory's files, and keeps following them: a finished
 * run opened later (`deno task dashboard --run RUN`), or one that trains in another process.
 *
 * - `metrics.jsonl`: the history (both `deno task train` and the coordinator write it);
 * - `data_ranges.jsonl`: each committed or aborted step with its ring (coordinator runs);
 * - `job.json`: the config; `summary.json`: the end, with each worker's device, state and totals;
 * - `checkpoints/step-N`: step and size.
 *
 * The JSON-lines files are read incrementally; a file that shrank or was replaced (a resume
 * rewrites metrics.jsonl without the steps after its checkpoint) restarts the view. A line that is
 * not JSON is skipped and counted, never fatal.
 */
import { listStepDirs, stepDirName } from "../../model/checkpoint/mod.ts";
import type { StepRecord } from "../job.ts";
import type { CheckpointInfo, RunStatus, RunView } from "./run_view.ts";

/** How often the files are looked at. */
const POLL_MS = 1000;
/** A run whose files have not changed for this long, and that has no summary, has stopped. */
const STOPPED_AFTER_MS = 60_000;

/** A run directory being followed. */
export interface RunDirFollower {
  /** Settles once the files have been read the first time. */
  ready: Promise<void>;
  stop(): void;
}

/** Reads `dir` into `view` and keeps it up to date until stopped. */
export function followRunDir(view: RunView, dir: string): RunDirFollower {
  const files = new RunFiles(dir, view);
  let timer: ReturnType<typeof setTimeout> | undefined, stopped = false;
  const poll = async () => {
    try {
      await files.read();
    } finally {
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    }
  };
  return {
    ready: poll(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The size and time of checkpoint `step` in `checkpoints`, or undefined if it is not there. */
export async function checkpointInfo(
  checkpoints: string,
  step: number,
): Promise<CheckpointInfo | undefined> {
  const path = `${checkpoints}/${stepDirName(step)}`;
  let bytes = 0, time = 0;
  try {
    for await (const e of Deno.readDir(path)) {
      if (!e.isFile) continue;
      const s = await Deno.stat(`${path}/${e.name}`);
      bytes += s.size;
      time = Math.max(time, s.mtime?.getTime() ?? 0);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return { step, bytes, time };
}

/** The run's files and how far each has been read. */
class RunFiles {
  readonly #dir: string;
  readonly #view: RunView;
  readonly #metrics: JsonLines;
  readonly #ranges: JsonLines;
  #seen = new Map<string, number>();

  constructor(dir: string, view: RunView) {
    this.#dir = dir;
    this.#view = view;
    this.#metrics = new JsonLines(`${dir}/metrics.jsonl`);
    this.#ranges = new JsonLines(`${dir}/data_ranges.jsonl`);
  }

  async read(): Promise<void> {
    const view = this.#view;
    const [metrics, ranges] = [await this.#metrics.read(), await this.#ranges.read()];
    if (metrics.restarted || ranges.restarted) {
      this.#metrics.rewind();
      this.#ranges.rewind();
      this.#seen = new Map();
      view.restart();
      return this.read();
    }
    for (const line of metrics.lines) view.addLine(line as Record<string, unknown>);
    for (const record of ranges.lines) view.addStepRecord(record as StepRecord);
    const problems = [this.#metrics, this.#ranges].filter((f) => f.badLines > 0)
      .map((f) => `${f.path}: ${f.badLines} line(s) that are not JSON were skipped`);
    if (problems.join() !== view.state.problems.join()) view.set({ problems });
    await this.#readConfig();
    await this.#readCheckpoints();
    await this.#readStatus();
  }

  async #readConfig(): Promise<void> {
    const config = await this.#json("job.json");
    if (config === undefined) return;
    const steps = (config as { train?: { steps?: unknown } }).train?.steps;
    this.#view.set({ config, steps: typeof steps === "number" ? steps : undefined });
  }

  async #readCheckpoints(): Promise<void> {
    const dir = `${this.#dir}/checkpoints`;
    if (!await this.#changed(dir)) return;
    const steps = await listStepDirs(dir).catch(() => []);
    const infos = await Promise.all(steps.map((s) => checkpointInfo(dir, s.step)));
    this.#view.set({ checkpoints: infos.filter((c) => c !== undefined) });
  }

  /** Finished when summary.json is newer than the history; else training or stopped. */
  async #readStatus(): Promise<void> {
    const summary = await mtime(`${this.#dir}/summary.json`);
    const written = Math.max(
      await mtime(this.#metrics.path) ?? 0,
      await mtime(this.#ranges.path) ?? 0,
    );
    let status: RunStatus = written === 0 ? "waiting" : "training";
    if (summary !== undefined && summary >= written) status = "finished";
    else if (written > 0 && Date.now() - written > STOPPED_AFTER_MS) status = "stopped";
    if (status === "finished" && await this.#changed(`${this.#dir}/summary.json`)) {
      const s = await this.#json("summary.json", true) as { workers?: unknown } | undefined;
      if (s?.workers) this.#view.set({ workers: s.workers as never });
    }
    if (status !== this.#view.state.status) this.#view.set({ status });
  }

  /** A JSON file of the run, if it exists and changed since it was last read (or `always`). */
  async #json(name: string, always = false): Promise<unknown> {
    const path = `${this.#dir}/${name}`;
    if (!always && !await this.#changed(path)) return undefined;
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      this.#view.set({ problems: [...this.#view.state.problems, `${path}: ${err}`] });
      return undefined;
    }
  }

  /** Whether `path`'s modification time differs from the last call's. */
  async #changed(path: string): Promise<boolean> {
    const t = await mtime(path) ?? -1;
    if (this.#seen.get(path) === t) return false;
    this.#seen.set(path, t);
    return t !== -1;
  }
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** A JSON-lines file read a piece at a time as it grows. */
class JsonLines {
  readonly path: string;
  badLines = 0;
  #offset = 0;
  #inode: number | null = null;
  #partial = "";
  #decoder = new TextDecoder();

  constructor(path: string) {
    this.path = path;
  }

  rewind(): void {
    this.#offset = 0;
    this.#inode = null;
    this.#partial = "";
    this.#decoder = new TextDecoder();
    this.badLines = 0;
  }

  /** The whole lines added since the last read; `restarted` if the file shrank or was replaced. */
  async read(): Promise<{ lines: unknown[]; restarted: boolean }> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      return { lines: [], restarted: this.#offset > 0 };
    }
    try {
      const { size, ino } = await file.stat();
      const replaced = this.#inode !== null && ino !== this.#inode;
      if (size < this.#offset || replaced) return { lines: [], restarted: true };
      this.#inode = ino;
      if (size === this.#offset) return { lines: [], restarted: false };
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const bytes = new Uint8Array(size - this.#offset);
      let got = 0;
      while (got < bytes.length) {
        const n = await file.read(bytes.subarray(got));
        if (n === null) break;
        got += n;
      }
      this.#offset += got;
      const text = this.#partial + this.#decoder.decode(bytes.subarray(0, got), { stream: true });
      const parts = text.split("\n");
      this.#partial = parts.pop()!;
      return {
        lines: parts.filter((l) => l.trim()).flatMap((l) => this.#parse(l)),
        restarted: false,
      };
    } finally {
      file.close();
    }
  }

  #parse(line: string): unknown[] {
    try {
      const value = JSON.parse(line);
      if (typeof value === "object" && value !== null) return [value];
    } catch {
      // counted below
    }
    this.badLines++;
    return [];
  }
}
