/**
 * A job at its minimum size loses a worker between checkpoints (real processes, SIGKILL): a
 * replacement gets the survivor's weights and the job goes on; Ctrl-C ends it with those weights
 * as the last checkpoint.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { finalSteps, readRunRecords, readSummary } from "../_run_files.ts";
import {
  coordinator,
  exitCode,
  jobArgs,
  type Proc,
  stop,
  waitForRanges,
  withRun,
  worker,
} from "./_cluster.ts";

/**
 * A job of `steps` steps at its minimum size, 2 workers, `a` and `b`; once 3 steps committed,
 * SIGKILL `b` and run `then`. Every process is stopped afterwards, whatever happened.
 */
function loseWorker(
  steps: number,
  then: (run: string, coord: Proc, a: Proc, started: Proc[]) => Promise<void>,
) {
  return withRun(async (run, config) => {
    const token = "lose-token";
    const coord = coordinator(run, config, [...jobArgs(steps, token), "--port", "0"]);
    const started = [coord];
    try {
      const address = await coord.address;
      const [a, b] = ["a", "b"].map((name) => worker(run, address, name, token));
      started.push(a, b);
      const commits = (text: string) => text.split('"committed":true').length - 1;
      await waitForRanges(run, (text) => commits(text) >= 3);
      b.child.kill("SIGKILL");
      await then(run, coord, a, started);
    } finally {
      for (const p of started) await stop(p);
    }
  }, { deadAfterMs: 2000 });
}

Deno.test("a replacement for a dead worker joins a job at its minimum size, which finishes", () =>
  loseWorker(10, async (run, coord, a, started) => {
    const c = worker(run, await coord.address, "c", "lose-token");
    started.push(c);
    assert.equal(await exitCode(coord), 0, "the job finished");
    for (const w of [a, c]) assert.equal(await exitCode(w), 0);
    const steps = finalSteps(await readRunRecords(run));
    assert.deepEqual(steps.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const last = steps.at(-1)!;
    assert.deepEqual(last.ranges.map((r) => r.worker.replace(/^w\d+-/, "")).sort(), ["a", "c"]);
    const spans = steps.flatMap((r) => r.ranges).sort((x, y) => x.start - y.start);
    spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end));
    const { weight_hash_checks: checks } = await readSummary(run);
    assert.ok(checks.at(-1)!.workers === 2 && checks.every((h) => h.identical));
  }));

Deno.test("Ctrl-C ends a job stuck below its minimum size, with the survivor's weights as the last checkpoint", () =>
  loseWorker(400, async (run, coord, a) => {
    coord.child.kill("SIGINT");
    assert.equal(await exitCode(coord), 0, "one Ctrl-C ended the job");
    assert.equal(await exitCode(a), 0);
    const summary = await readSummary(run);
    const checkpoint = await loadCheckpoint(run);
    assert.equal(checkpoint.state.step, summary.step, "the last committed step was saved");
    const committed = finalSteps(await readRunRecords(run)).map((r) => r.step);
    assert.equal(summary.step, committed.at(-1));
  }));
