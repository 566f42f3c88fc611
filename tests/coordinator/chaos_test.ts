/**
 * Chaos on a 3-worker job, in real processes: workers frozen (SIGSTOP) and killed (SIGKILL), a
 * replacement joining while the job is at its minimum size, the coordinator killed and resumed.
 * What is done is drawn from a seeded generator (CHAOS_SEED picks another sequence); what is
 * asserted holds for every sequence and every timing: the job finishes, every rank ends with the
 * same weights, every checkpoint loads, and the steps that make the final weights tile the data,
 * no sample twice. Faults wait for committed steps, not for time, and the job is ended (Ctrl-C)
 * once every live worker is back in the ring: a fixed step count could end it while a frozen
 * worker is still out, and that worker would find no coordinator to rejoin.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { Rng } from "../../model/optim/mod.ts";
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

const seed = Number(Deno.env.get("CHAOS_SEED") ?? 7);
const deadAfterMs = 2000;

Deno.test("chaos: a 3-worker job through SIGSTOPs, SIGKILLs, a replacement at minimum size and a coordinator restart finishes with one set of weights and no sample twice", async () => {
  const rng = new Rng(seed);
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const events: string[] = [];
  await withRun(async (run, config) => {
    const token = "chaos-token";
    const args = jobArgs(1000, token);
    let coord = coordinator(run, config, [...args, "--port", "0"]);
    const address = await coord.address;
    const live = new Map<string, Proc>();
    const all: Proc[] = [coord];
    const start = (name: string) => {
      const p = worker(run, address, name, token);
      live.set(name, p);
      all.push(p);
      events.push(`start ${name}`);
    };
    let committed = 0;
    /** Waits until `more` further steps have committed (replays included). */
    const after = async (more: number) => {
      committed += more;
      await waitForRanges(run, (text) => text.split('"committed":true').length - 1 >= committed);
    };
    const freeze = async () => {
      const name = pick([...live.keys()]);
      const ms = deadAfterMs / 2 + rng.int(2 * deadAfterMs);
      events.push(`SIGSTOP ${name} for ${ms} ms`);
      live.get(name)!.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, ms)); // the fault's length, not an assertion
      live.get(name)!.child.kill("SIGCONT");
    };
    const kill = (name = pick([...live.keys()])) => {
      events.push(`SIGKILL ${name}`);
      live.get(name)!.child.kill("SIGKILL");
      live.delete(name);
    };
    try {
      for (const name of ["w0", "w1", "w2"]) start(name);
      await after(2 + rng.int(3));
      await freeze();
      await after(1 + rng.int(3));
      kill(); // down to the minimum size, 2
      await after(1 + rng.int(3));
      kill(); // below it; the replacement joins a job that one worker holds
      start("r1");
      await after(2 + rng.int(3));
      events.push("SIGKILL the coordinator, then --resume");
      coord.child.kill("SIGKILL");
      await coord.child.status;
      coord = coordinator(run, config, [...args, "--port", address.split(":")[1], "--resume"]);
      all.push(coord);
      await after(1 + rng.int(3));
      start("r2");
      await after(2 + rng.int(3));
      if (rng.int(2) === 0) await freeze();
      else kill();
      // Every live worker trains in one step committed after the last fault, then Ctrl-C.
      const names = [...live.keys()];
      const seen = (await Deno.readTextFile(`${run}/data_ranges.jsonl`)).split("\n").length - 1;
      const together = (line: string) =>
        line.includes('"committed":true') && line.includes(`"world_size":${names.length},`) &&
        names.every((n) => line.includes(`-${n}"`));
      await waitForRanges(run, (text) => text.split("\n").slice(seen).some(together), 300_000);
      coord.child.kill("SIGINT");
      assert.equal(await exitCode(coord, 300_000), 0, "the job finished");
      for (const p of live.values()) assert.equal(await exitCode(p), 0, "its workers finished");
      console.log(`chaos seed ${seed}: ${events.join("; ")}`);

      const summary = await readSummary(run);
      const steps = summary.step;
      const checks = summary.weight_hash_checks;
      assert.ok(
        checks.every((c) => c.identical),
        "every rank held the same weights at every check",
      );
      assert.deepEqual(checks.at(-1), { step: steps, workers: names.length, identical: true });
      for (const e of Deno.readDirSync(`${run}/checkpoints`)) {
        if (e.name.startsWith("step-")) await loadCheckpoint(`${run}/checkpoints/${e.name}`);
      }
      assert.equal((await loadCheckpoint(run)).state.step, steps, "the last step was saved");
      const records = await readRunRecords(run);
      const final = finalSteps(records);
      assert.deepEqual(final.map((r) => r.step), Array.from({ length: steps }, (_, i) => i + 1));
      const spans = final.flatMap((r) => r.ranges).sort((a, b) => a.start - b.start);
      spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end, "no overlap"));
      const replayed = records.filter((r) => "rewind_to" in r).length;
      const aborted = records.filter((r) => "committed" in r && !r.committed).length;
      console.log(
        `${final.length} steps in the final weights, ${aborted} aborted, ${replayed} rewind(s); ` +
          `samples 0..${spans.at(-1)!.end} once each; ${checks.length} identical hash checks`,
      );
    } finally {
      for (const p of all) {
        try {
          p.child.kill("SIGCONT");
        } catch { /* ended */ }
        await stop(p);
      }
    }
  }, {
    deadAfterMs,
    train: { microBatch: 2, gradAccum: 2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 4 },
  });
});
