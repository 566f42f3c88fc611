/**
 * The live view of a job fed by the coordinator's own TrainingMetrics: when the job goes back to its
 * latest state, the view drops the steps it will replay, as metrics.jsonl does.
 */
import assert from "node:assert/strict";
import type { StepRecord } from "../../../coordinator/job.ts";
import { TrainingMetrics } from "../../../coordinator/metrics.ts";
import { followJob, RunView } from "../../../coordinator/dashboard/mod.ts";
import { Registry } from "../../../model/metrics/mod.ts";
import { JobConfig } from "../../../model/train/mod.ts";

const committed = (step: number, loss: number): StepRecord => ({
  step,
  ring_version: 1,
  world_size: 1,
  committed: true,
  ranges: [{ worker: "w0", start: 4 * (step - 1), end: 4 * step }],
  loss,
});

const stats = { computeSeconds: 0.1, allReduceSeconds: 0, allReduceBytes: 0, idleSeconds: 0 };

Deno.test("a rewind drops the replayed steps from the live view, and their replays take their place", () => {
  const metrics = new TrainingMetrics({ tokensPerWorkerStep: 10, registry: new Registry() });
  const view = new RunView("run");
  const stop = followJob(view, {
    run: "run",
    config: JobConfig.parse({ train: { steps: 6 } }),
    metrics,
    finished: new Promise(() => {}),
  });
  for (const step of [1, 2, 3, 4]) {
    metrics.workerStep("w0", { step, ...stats, lr: step * 1e-4, lossScale: 1 });
    metrics.stepEnded(committed(step, 10 - step));
  }
  const generation = view.generation;
  metrics.rewound(2);
  assert.deepEqual(view.rows.map((r) => r[0]), [1, 1, 2, 2], "steps 3 and 4 are gone");
  assert.equal(view.state.step, 2);
  assert.equal(view.generation, generation + 1, "pages reload the rows");

  metrics.workerStep("w0", { step: 3, ...stats, lr: 3e-4, lossScale: 1 });
  metrics.stepEnded(committed(3, 6.5));
  const steps = view.rows.map((r) => r[0]);
  assert.deepEqual(steps, [1, 1, 2, 2, 3, 3], "the replayed step's lines, learning rate included");
  assert.deepEqual(steps, [...steps].sort((a, b) => a! - b!), "the x axis still ascends");
  assert.equal(view.rows.findLast((r) => r[2] !== null)![2], 6.5, "the replay's loss");
  assert.equal(metrics.snapshot().step, 3);
  stop();
});
