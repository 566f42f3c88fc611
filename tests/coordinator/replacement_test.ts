/**
 * A job at its minimum size loses a worker between checkpoints (real processes, SIGKILL): a
 * replacement gets the survivor's weights and the job goes on; Ctrl-C ends it with those weights
 * as the last checkpoint.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { finalSteps, readRunRecords, readSummary } from "../_run_files.ts";
import { coordinator, exitCode, stop, waitForRanges, withRun, worker } from "./_cluster.ts";

/** Lines of data_ranges.jsonl that record a committed step. */
const commits = (lines: string) => lines.split("\n").filter((l) => l.includes('"committed":true'));

Deno.test("a replacement for a dead worker joins a job at its minimum size, which finishes", async () => {
  await withRun(async (run, config) => {
    const token = "replace-token";
    const coord = coordinator(run, config, [
      "--steps",
      "10",
      "--min-workers",
      "2",
      "--token",
      token,
      "--port",
      "0",
    ]);
    const address = await coord.address;
    const [a, b] = ["a", "b"].map((name) => worker(run, address, name, token));
    let c: ReturnType<typeof worker> | undefined;
    try {
      await waitForRanges(run, (lines) => commits(lines).length >= 3);
      b.child.kill("SIGKILL");
      c = worker(run, address, "c", token);
      assert.equal(await exitCode(coord), 0, "the job finished");
      for (const w of [a, c]) assert.equal(await exitCode(w), 0);
      const records = await readRunRecords(run);
      const steps = finalSteps(records);
      assert.deepEqual(steps.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const last = steps.at(-1)!;
      assert.deepEqual(last.ranges.map((r) => r.worker.replace(/^w\d+-/, "")).sort(), ["a", "c"]);
      const spans = steps.flatMap((r) => r.ranges).sort((x, y) => x.start - y.start);
      spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end));
      const { weight_hash_checks: checks } = await readSummary(run);
      assert.ok(checks.at(-1)!.workers === 2 && checks.every((h) => h.identical));
    } finally {
      for (const p of [coord, a, b, ...(c ? [c] : [])]) await stop(p);
    }
  }, { deadAfterMs: 2000 });
});

Deno.test("Ctrl-C ends a job stuck below its minimum size, with the survivor's weights as the last checkpoint", async () => {
  await withRun(async (run, config) => {
    const token = "stuck-token";
    const coord = coordinator(run, config, [
      "--steps",
      "400",
      "--min-workers",
      "2",
      "--token",
      token,
      "--port",
      "0",
    ]);
    const address = await coord.address;
    const [a, b] = ["a", "b"].map((name) => worker(run, address, name, token));
    try {
      await waitForRanges(run, (lines) => commits(lines).length >= 3);
      b.child.kill("SIGKILL");
      coord.child.kill("SIGINT");
      assert.equal(await exitCode(coord), 0, "one Ctrl-C ended the job");
      assert.equal(await exitCode(a), 0);
      const summary = await readSummary(run);
      const checkpoint = await loadCheckpoint(run);
      assert.equal(checkpoint.state.step, summary.step, "the last committed step was saved");
      const committed = finalSteps(await readRunRecords(run)).map((r) => r.step);
      assert.equal(summary.step, committed.at(-1));
    } finally {
      for (const p of [coord, a, b]) await stop(p);
    }
  }, { deadAfterMs: 2000 });
});
