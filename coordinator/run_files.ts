/**
 * The run directory as the coordinator writes it. Every write goes through one queue, in the order
 * asked (so data_ranges.jsonl lists steps in the order they happened), and a failed write is tried
 * again a few times: a full disk may be freed in the meantime. One that still fails becomes an
 * error naming the path and saying what to do, and every later write fails at once with it: the
 * job is over, and it should end quickly and leave the last good checkpoint alone.
 *
 * @example
 * ```ts
 * const files = new RunFiles(log);
 * await files.write(`${run}/data_ranges.jsonl`, (path) => appendText(path, line));
 * ```
 */
import { InputError } from "../model/errors.ts";
import type { Logger } from "../model/log.ts";
import { type RewindRecord, RunFilesError } from "./job.ts";

/** Tries of one write before the job fails, and the wait before the second (doubling after). */
const ATTEMPTS = 3;
const FIRST_RETRY_MS = 500;

export class RunFiles {
  #queue: Promise<unknown> = Promise.resolve();
  #broken: RunFilesError | undefined;

  constructor(readonly log: Logger) {}

  /** Runs `write(path)` after the writes asked before it, retried; rejects with a RunFilesError. */
  write<T>(path: string, write: (path: string) => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#attempt(path, write));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #attempt<T>(path: string, write: (path: string) => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      if (this.#broken) throw this.#broken;
      try {
        return await write(path);
      } catch (err) {
        const why = describe(err);
        if (attempt >= ATTEMPTS) {
          this.#broken = new RunFilesError(
            path,
            `Cannot write: ${why}. Free some space or make the run directory writable, then ` +
              `continue from the last checkpoint with --resume`,
            { cause: err },
          );
          throw this.#broken;
        }
        const waitMs = FIRST_RETRY_MS * 2 ** (attempt - 1);
        this.log.warn("cannot write; trying again", { path, error: why, attempt, waitMs });
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }
}

/**
 * Refuses to start a job over a run directory that already holds one, whose checkpoints and
 * records a fresh start would overwrite.
 */
export async function checkFreshRun(run: string): Promise<void> {
  const found = await runRecords(run);
  if (found.length === 0) return;
  throw new InputError(
    "--out",
    `"${run}" already holds a run (${found.join(", ")}): continue it with --resume, or start a ` +
      `new one with a fresh --out`,
  );
}

/** The records of a run that `run` holds (checkpoints, ranges, metrics); none in a fresh one. */
export async function runRecords(run: string): Promise<string[]> {
  const found = [];
  for (const name of ["checkpoints", "data_ranges.jsonl", "metrics.jsonl"]) {
    const info = await Deno.stat(`${run}/${name}`).catch(() => undefined);
    if (info && (info.isDirectory || info.size > 0)) found.push(name);
  }
  return found;
}

/**
 * What resuming at `startStep` throws away: the steps after it that data_ranges.jsonl records as
 * committed (the checkpoint is older than the records), or undefined when there are none.
 */
export async function rewindAtResume(
  ranges: string,
  startStep: number,
  checkpoint: string,
): Promise<RewindRecord | undefined> {
  const text = await Deno.readTextFile(ranges).catch(() => "");
  // The last step whose committed weights the records describe, rewinds taken into account.
  let last = 0;
  for (const line of text.split("\n")) {
    const r = parseLine(line);
    if (r?.rewind_to !== undefined) last = r.rewind_to;
    else if (r?.committed) last = Math.max(last, r.step);
  }
  if (last <= startStep) return undefined;
  return {
    rewind_to: startStep,
    replayed_steps: Array.from({ length: last - startStep }, (_, i) => startStep + 1 + i),
    reason: `resumed from ${checkpoint}`,
  };
}

/** A record line, or undefined for a blank one or one a killed writer left unfinished. */
function parseLine(
  line: string,
): { step: number; committed?: boolean; rewind_to?: number } | undefined {
  try {
    return line.trim() ? JSON.parse(line) : undefined;
  } catch {
    return undefined;
  }
}

/** An I/O error's message without the path Deno appends (the caller names the path). */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/: \w+ '[^']*'$/, "");
}
