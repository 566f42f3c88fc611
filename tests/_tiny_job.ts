/**
 * What tests that run a distributed job train: a tiny model, and the GPL-3 text Debian ships as
 * data, through the real ingest CLI.
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
export async function ingestLicence(out: string): Promise<void> {
  const result = await denoOutput("ingest/main.ts", [
    "--out",
    out,
    "--vocab-size",
    "300",
    "--val-fraction",
    "0",
    "/usr/share/common-licenses/GPL-3",
  ]);
  assert.equal(result.code, 0, result.stderr);
}
