/** The files a coordinator leaves in its run directory, read back by the tests that start one. */
import type { StepRecord } from "../coordinator/job.ts";

/** RUN/data_ranges.jsonl: every committed and aborted step. */
export async function readStepRecords(run: string): Promise<StepRecord[]> {
  const text = await Deno.readTextFile(`${run}/data_ranges.jsonl`);
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

/** RUN/summary.json, written when the job ends. */
export async function readSummary(run: string): Promise<{
  step: number;
  weight_hash_checks: { step: number; workers: number; identical: boolean }[];
}> {
  return JSON.parse(await Deno.readTextFile(`${run}/summary.json`));
}
