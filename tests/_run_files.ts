/** The files a coordinator leaves in its run directory, read back by the tests that start one. */
import type { RewindRecord, StepRecord } from "../coordinator/job.ts";

/** RUN/data_ranges.jsonl, line by line: every committed and aborted step, and every rewind. */
export async function readRunRecords(run: string): Promise<(StepRecord | RewindRecord)[]> {
  const text = await Deno.readTextFile(`${run}/data_ranges.jsonl`);
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

/** RUN/data_ranges.jsonl: every committed and aborted step (rewinds left out). */
export async function readStepRecords(run: string): Promise<StepRecord[]> {
  return (await readRunRecords(run)).filter((r): r is StepRecord => "step" in r);
}

/**
 * The committed steps whose samples the final weights hold, one per step in step order: a rewind
 * takes back the steps it replays, and their later commits count instead.
 */
export function finalSteps(records: (StepRecord | RewindRecord)[]): StepRecord[] {
  const kept = new Map<number, StepRecord>();
  for (const r of records) {
    if ("rewind_to" in r) { for (const s of r.replayed_steps) kept.delete(s); }
    else if (r.committed) kept.set(r.step, r);
  }
  return [...kept.values()].sort((a, b) => a.step - b.step);
}

/** RUN/summary.json, written when the job ends. */
export async function readSummary(run: string): Promise<{
  step: number;
  weight_hash_checks: { step: number; workers: number; identical: boolean }[];
}> {
  return JSON.parse(await Deno.readTextFile(`${run}/summary.json`));
}
