/** Data and worker command lines the tests that run a real job share. */
import assert from "node:assert/strict";
import { denoOutput } from "../../model/subprocess.ts";

/**
 * Shards of four licence texts from Debian's base system, ingested by the real CLI with a 300-token
 * vocabulary; one of the four documents becomes the validation split.
 */
export async function ingestLicences(out: string): Promise<void> {
  const licences = ["GPL-3", "Apache-2.0", "GPL-2", "MPL-2.0"]
    .map((f) => `/usr/share/common-licenses/${f}`);
  const args = ["--out", out, "--vocab-size", "300", "--val-fraction", "0.25", ...licences];
  const r = await denoOutput("ingest/main.ts", args);
  assert.equal(r.code, 0, r.stderr);
}

/** `worker_main.ts`'s arguments for a one-thread worker `name` with its own shard cache. */
export function workerArgs(address: string, name: string, cache: string): string[] {
  return ["--coordinator", address, "--threads", "1", "--name", name, "--cache", cache];
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
