/** The job's state machine on its own: what a rank's repeated failure of one step does. */
import assert from "node:assert/strict";
import type { RewindRecord } from "../../coordinator/job.ts";
import { TrainingMetrics } from "../../coordinator/metrics.ts";
import { Registry } from "../../model/metrics/mod.ts";
import { testJob } from "./_job.ts";

function job(records: { committed: boolean; reason?: string }[]) {
  return testJob({
    minWorkers: 2,
    deadAfterMs: 60_000,
    maxStepFailures: 3,
    onStep: (r) => void records.push(r),
  });
}

Deno.test("a step a rank fails again and again fails the job, and its workers are told done", async () => {
  const records: { committed: boolean; reason?: string }[] = [];
  const j = job(records);
  const failed = j.finished.then(() => "finished", (err: Error) => err.message);
  const [a, b] = [j.join("a", "127.0.0.1:1"), j.join("b", "127.0.0.1:2")];
  for (let attempt = 0; attempt < 3; attempt++) {
    const [pa, pb] = [j.awaitStep(a, 0, ""), j.awaitStep(b, 0, "")];
    const plan = await pa;
    assert.equal((await pb).done, false);
    const verdicts = [
      j.reportReduced(a, 0, plan.ring_version, false, 0, "chunkTimeoutMs: expected int"),
      j.reportReduced(b, 0, plan.ring_version, true, 1.5, ""),
    ];
    assert.deepEqual((await Promise.all(verdicts)).map((v) => v.commit), [false, false]);
  }
  const plans = await Promise.all([j.awaitStep(a, 0, ""), j.awaitStep(b, 0, "")]);
  const why = "Step 1 failed 3 times in a row, last on w0-a: chunkTimeoutMs: expected int";
  assert.deepEqual(plans.map((p) => [p.done, p.error]), [[true, why], [true, why]]);
  assert.equal(await failed, why, "the job fails once its workers were told");
  assert.deepEqual(records.map((r) => r.committed), [false, false, false]);
});

Deno.test("failures that a commit separates do not add up", async () => {
  const records: { committed: boolean }[] = [];
  const j = job(records);
  let settled = false;
  j.finished.then(() => settled = true, () => settled = true);
  const [a, b] = [j.join("a", "127.0.0.1:1"), j.join("b", "127.0.0.1:2")];
  // Fail, fail, commit, fail, fail: never three in a row.
  for (const ok of [false, false, true, false, false]) {
    const step = j.committedStep;
    const [pa, pb] = [j.awaitStep(a, step, ""), j.awaitStep(b, step, "")];
    const plan = await pa;
    await pb;
    const verdicts = await Promise.all([
      j.reportReduced(a, step, plan.ring_version, ok, 1, ok ? "" : "boom"),
      j.reportReduced(b, step, plan.ring_version, true, 1, ""),
    ]);
    assert.equal(verdicts[0].commit, ok);
  }
  assert.equal(j.committedStep, 1);
  assert.equal(settled, false, "the job goes on");
  assert.deepEqual(records.map((r) => r.committed), [false, false, true, false, false]);
});

Deno.test("with no live worker holding the committed weights the job goes back, and tells its observer", async () => {
  let clock = 0;
  const metrics = new TrainingMetrics({ tokensPerWorkerStep: 8, registry: new Registry() });
  const rewinds: number[] = [], records: RewindRecord[] = [];
  metrics.subscribe((e) => e.kind === "rewind" && rewinds.push(e.to));
  const j = testJob({
    now: () => clock,
    observer: metrics,
    onRewind: (r) => void records.push(r),
  });
  const a = j.join("a", "127.0.0.1:1");
  const plan = await j.awaitStep(a, 0, "");
  assert.equal((await j.reportReduced(a, 0, plan.ring_version, true, 2.5, "")).commit, true);
  j.awaitStep(a, 1, "").catch(() => {}); // a holds step 1's weights, then goes silent
  clock += 5000;
  j.expireLeases(250);
  const b = j.join("b", "127.0.0.1:2");
  const next = await j.awaitStep(b, 0, "");
  assert.deepEqual([next.step, next.data_position], [0, 0], "step 1 is trained again, on its data");
  assert.deepEqual(rewinds, [0]);
  assert.deepEqual(records.map((r) => [r.rewind_to, r.replayed_steps]), [[0, [1]]]);
  assert.equal(metrics.snapshot().step, 0);
});
