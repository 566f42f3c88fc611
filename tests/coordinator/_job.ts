/** A coordinator Job on its own, for tests of its state machine. */
import { Job, type JobOptions } from "../../coordinator/job.ts";
import { silentLogger } from "../../model/log.ts";

/**
 * A Job of 3 steps of 4 samples a worker that writes nothing (no checkpoints, evals or hashes to
 * speak of), with `options` over those defaults.
 */
export function testJob(options: Partial<JobOptions> = {}): Job {
  return new Job({
    steps: 3,
    samplesPerWorker: 4,
    minWorkers: 1,
    deadAfterMs: 1000,
    checkpointEvery: 0,
    hashEvery: 100,
    evalEvery: 0,
    log: silentLogger,
    onStep: () => {},
    onValLoss: () => {},
    onState: () => {},
    ...options,
  });
}
