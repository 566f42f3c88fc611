/**
 * What tests that run a distributed job train: a tiny model, and licence texts Debian ships as
 * data, through the real ingest CLI; and how their workers are started.
 */
import assert from "node:assert/strict";
import { denoOutput } from "../model/subprocess.ts";

/** A job config of two layers of width 64 on a 32-token context: well under a second a step. */
export const tinyJob = {
  model: { layers: 2, heads: 2, width: 64, contextLength: 32 },
  train: { microBatch: 2, gradAccum: 2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 0 },
  hashEvery: 1,
  heartbeatMs: 250,
  // Generous: on a loaded 2-core CI machine a busy worker can miss a few beats.
  deadAfterMs: 5000,
};

/** Ingests /usr/share/common-licenses/GPL-3 into `out` (tokenizer of 300, no validation split). */
export function ingestLicence(out: string): Promise<void> {
  return ingest(out, ["GPL-3"], 0);
}

/**
 * Ingests four licence texts into `out` with a tokenizer of 300; one of the four documents becomes
 * the validation split.
 */
export function ingestLicences(out: string): Promise<void> {
  return ingest(out, ["GPL-3", "Apache-2.0", "GPL-2", "MPL-2.0"], 0.25);
}

async function ingest(out: string, licences: string[], valFraction: number): Promise<void> {
  const files = licences.map((f) => `/usr/share/common-licenses/${f}`);
  const args = ["--out", out, "--vocab-size", "300", "--val-fraction", String(valFraction)];
  const result = await denoOutput("ingest/main.ts", [...args, ...files]);
  assert.equal(result.code, 0, result.stderr);
}

/**
 * Writes the job config of a 1-layer model of width 32 (dozens of steps a second on one core) to
 * `path`, evaluating and checkpointing as `train` says.
 */
export async function writeTinyJob(
  path: string,
  train: { evalEvery: number; checkpointEvery: number },
): Promise<void> {
  const job = {
    model: { layers: 1, heads: 2, width: 32, contextLength: 32 },
    train: { microBatch: 2, warmupSteps: 2, ...train },
    heartbeatMs: 250,
    // Generous: a worker compiling its graphs on a loaded 2-core machine can miss beats.
    deadAfterMs: 5000,
  };
  await Deno.writeTextFile(path, JSON.stringify(job));
}

/** `worker_main.ts`'s arguments for a one-thread worker `name` with its own shard cache. */
export function workerArgs(address: string, name: string, cache: string): string[] {
  return ["--coordinator", address, "--threads", "1", "--name", name, "--cache", cache];
}
