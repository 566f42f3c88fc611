/**
 * A job on 2 emulated hosts × 2 workers (real coordinator and worker processes in network
 * namespaces): the coordinator forms the two-level ring from the hosts it sees, and when a worker
 * is killed the job re-forms it from the survivors and finishes with every sample trained once.
 * Skipped where namespaces are not allowed.
 */
import assert from "node:assert/strict";
import { EmulatedHosts, emulatedHostsUnavailable } from "../../worker/collective/mod.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { tinyJob } from "../_tiny_job.ts";
import { coordinator, exitCode, stop, waitForRanges, withRun, worker } from "./_cluster.ts";

const unavailable = await emulatedHostsUnavailable();
if (unavailable) console.log(`Skipping the hierarchical job test: ${unavailable}`);
const token = "hier-token";

Deno.test({
  name: "on 2 hosts × 2 workers the job trains on two levels, and a killed worker's ring re-forms",
  ignore: !!unavailable,
  fn: async () => {
    await using hosts = await EmulatedHosts.create(2, { rate: "10gbit" });
    await withRun(async (run, config) => {
      const coord = coordinator(
        run,
        config,
        ["--steps", "10", "--host", hosts.hosts[0].address, "--port", "7000"],
        { env: { DENOFORMER_TOKEN: token }, wrap: hosts.command(0) },
      );
      const address = `${hosts.hosts[0].address}:7000`;
      const workers = [0, 0, 1, 1].map((host, i) =>
        worker(run, address, `w${i}`, token, ["--host", hosts.hosts[host].address], {
          stderr: true,
          wrap: hosts.command(host),
        })
      );
      try {
        // Four ranks train a few steps together, then a worker of host 1 dies.
        await waitForRanges(
          run,
          (lines) => lines.split("\n").filter((l) => l.includes('"world_size":4')).length >= 3,
        );
        workers[2].child.kill("SIGKILL");
        assert.equal(await exitCode(coord), 0, `the coordinator finished: ${await coord.stdout}`);
        const logs = await Promise.all(workers.map((w) => w.stderr));

        const records = await readStepRecords(run);
        const committed = records.filter((r) => r.committed);
        assert.deepEqual(committed.map((r) => r.step), [...Array(10).keys()].map((i) => i + 1));
        assert.ok(committed.some((r) => r.world_size === 4) && committed.at(-1)!.world_size === 3);
        const spans = committed.flatMap((r) => r.ranges).sort((a, b) => a.start - b.start);
        spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end));
        const summary = await readSummary(run);
        assert.ok(summary.weight_hash_checks.every((c) => c.identical), "ranks' weights agree");
        // Two levels: each host's member hands its gradients to its leader through shared memory,
        // and the leaders reach each other over the link.
        const plane = (log: string) =>
          log.split("\n").filter((l) => l.includes('"msg":"data plane"')).map((l) => JSON.parse(l));
        const first = logs.map((log) => plane(log)[0]);
        const member = first.find((p) => p.payloads === "shm");
        const leader = first.find((p) => p.payloads === "tcp");
        assert.ok(member && leader, `data plane logs: ${JSON.stringify(first)}`);
        assert.notEqual(leader.right.split(":")[0], member.right.split(":")[0]);
      } finally {
        await Promise.all([coord, ...workers].map(stop));
      }
    }, {
      train: { ...tinyJob.train, gradAccum: 1, checkpointEvery: 4 },
      minWorkers: 3,
    });
  },
});
