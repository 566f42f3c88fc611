/**
 * A run directory that cannot be written, on real file systems: read-only from the start, or
 * full part-way through a job. The coordinator runs in a mount namespace of its own (unshare, no
 * root needed where user namespaces are allowed), where its run directory is a read-only bind
 * mount or a small tmpfs; its workers run outside it.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { finalSteps, readRunRecords } from "../_run_files.ts";
import { coordinator, exitCode, jobArgs, stop, withRun, worker } from "./_cluster.ts";

/** Whether this machine lets a process make a user and mount namespace. */
const namespaces = (await new Deno.Command("unshare", { args: ["-rm", "true"] }).output()
  .catch(() => ({ success: false }))).success;
if (!namespaces) {
  console.log("unshare -rm is not permitted here: the run directory tests are skipped");
}

/**
 * The command that runs the coordinator with `mount` (a shell command on "$run") done first, in a
 * PID namespace that dies with it; afterwards the run directory is copied to `copy`, where the
 * test can read what was left on the mounted file system.
 */
function inNamespace(run: string, copy: string, mount: string): string[] {
  const script = `run="$0"; copy="$1"; shift; ${mount} || exit 99; "$@"; code=$?; ` +
    `cp -a "$run"/. "$copy"; exit $code`;
  return ["unshare", "-rm", "--pid", "--fork", "--kill-child", "sh", "-c", script, run, copy];
}

Deno.test({
  name: "a read-only run directory is refused at start with one line naming the path",
  ignore: !namespaces,
  fn: () =>
    withRun(async (run, config) => {
      await Deno.mkdir(run);
      const mount = `mount --bind "$run" "$run" && mount -o remount,bind,ro "$run"`;
      const coord = coordinator(run, config, ["--port", "0"], {
        stderr: true,
        wrap: inNamespace(run, `${run}-copy`, mount),
      });
      assert.equal(await exitCode(coord), 2, "refused as bad input, not a crash");
      const lines = (await coord.stderr).trim().split("\n").filter((l) => !l.startsWith("{"));
      assert.deepEqual(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0],
        new RegExp(`^error: ${run}/metrics.jsonl: Cannot write: Read-only file system .*--resume`),
      );
    }),
});

Deno.test({
  name:
    "a disk that fills up mid-run stops the job after bounded retries, naming the path, and keeps the last checkpoint",
  ignore: !namespaces,
  fn: () =>
    withRun(async (run, config) => {
      await Deno.mkdir(run);
      const copy = `${run}-copy`;
      await Deno.mkdir(copy);
      // Room for the first checkpoint (about 1.5 MB) and the records, not for the second.
      const mount = `mount -t tmpfs -o size=2400k tmpfs "$run"`;
      const token = "disk-token";
      const coord = coordinator(run, config, [...jobArgs(200, token), "--port", "0"], {
        stderr: true,
        wrap: inNamespace(run, copy, mount),
      });
      const address = await coord.address;
      const workers = ["a", "b"].map((name) => worker(`${run}-cache`, address, name, token));
      try {
        assert.equal(await exitCode(coord), 2, "the job stopped with an error");
        for (const w of workers) assert.equal(await exitCode(w), 1, "workers stop: the job failed");
        const log = await coord.stderr;
        const retries = log.split("\n").filter((l) =>
          l.includes('"msg":"cannot write; trying again"')
        );
        assert.equal(retries.length, 2, "three tries, then the job stops");
        const error = log.split("\n").find((l) => l.startsWith("error: "));
        console.log(`the coordinator said: ${error}`);
        assert.match(
          error ?? "",
          new RegExp(
            `^error: ${run}/checkpoints: Cannot write: No space left on device .*--resume`,
          ),
        );
        const kept = await loadCheckpoint(copy);
        assert.equal(kept.state.step, 2, "the last good checkpoint loads");
        // Every record line is whole (none torn by the full disk), and the steps tile the data.
        const steps = finalSteps(await readRunRecords(copy));
        assert.ok(steps.length >= 2);
        const spans = steps.flatMap((r) => r.ranges).sort((a, b) => a.start - b.start);
        spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end));
        for (const line of (await Deno.readTextFile(`${copy}/metrics.jsonl`)).trim().split("\n")) {
          JSON.parse(line);
        }
      } finally {
        for (const p of [coord, ...workers]) await stop(p);
        await Deno.remove(`${run}-cache`, { recursive: true }).catch(() => {});
      }
    }, {
      train: { microBatch: 2, gradAccum: 2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 2 },
    }),
});
