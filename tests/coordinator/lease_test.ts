/**
 * Leases measure the workers, not the coordinator: a coordinator that does not run for a while (a
 * long synchronous checkpoint save, a starved or stopped process) must not take its workers for
 * dead when it runs again, with their heartbeats still unread in its sockets.
 */
import assert from "node:assert/strict";
import { readStepRecords } from "../_run_files.ts";
import {
  coordinator,
  exitCode,
  jobArgs,
  stop,
  waitForRanges,
  withRun,
  worker,
} from "./_cluster.ts";

const commits = (lines: string) => lines.split("\n").filter((l) => l.includes('"committed":true'));

Deno.test("a coordinator frozen for three lease deadlines (SIGSTOP) expires no worker when it runs again", async () => {
  const deadAfterMs = 2000;
  await withRun(async (run, config) => {
    const token = "frozen-token";
    const coord = coordinator(run, config, [...jobArgs(400, token), "--port", "0"], {
      stderr: true,
    });
    const address = await coord.address;
    const workers = ["a", "b"].map((name) => worker(run, address, name, token));
    try {
      await waitForRanges(run, (lines) => commits(lines).length >= 2);
      coord.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 3 * deadAfterMs)); // the fault: a long freeze
      coord.child.kill("SIGCONT");
      const before = commits(await Deno.readTextFile(`${run}/data_ranges.jsonl`)).length;
      await waitForRanges(run, (lines) => commits(lines).length >= before + 2);
      coord.child.kill("SIGINT");
      assert.equal(await exitCode(coord), 0);
      for (const w of workers) assert.equal(await exitCode(w), 0);
      assert.doesNotMatch(await coord.stderr, /lease expired/);
      const records = await readStepRecords(run);
      assert.deepEqual(records.filter((r) => !r.committed), [], "no step was aborted");
      const members = new Set(records.flatMap((r) => r.ranges.map((x) => x.worker)));
      assert.equal(members.size, 2, "the same two workers throughout, none rejoined");
    } finally {
      for (const p of [coord, ...workers]) await stop(p);
    }
  }, { deadAfterMs });
});
