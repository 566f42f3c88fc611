/**
 * A job on 2 emulated hosts × 2 workers (real coordinator and worker processes in network
 * namespaces): the coordinator forms the two-level ring from the hosts it sees, and when a worker
 * is killed the job re-forms it from the survivors and finishes with every sample trained once.
 * Skipped where namespaces are not allowed.
 */
import assert from "node:assert/strict";
import { EmulatedHosts, emulatedHostsUnavailable } from "../../worker/collective/mod.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { licenseShards } from "../_shards.ts";

const unavailable = await emulatedHostsUnavailable();
if (unavailable) console.log(`Skipping the hierarchical job test: ${unavailable}`);
const root = new URL("../../", import.meta.url).pathname;

/** A process in emulated host `host`, its stderr (JSON log lines) and its `listening on` address. */
function spawnIn(hosts: EmulatedHosts, host: number, script: string, args: string[]) {
  const [cmd, ...prefix] = hosts.command(host);
  const child = new Deno.Command(cmd, {
    args: [...prefix, Deno.execPath(), "run", "--allow-all", `${root}${script}`, ...args],
    env: { DENOFORMER_TOKEN: "hier-token" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const read = (stream: ReadableStream<Uint8Array>) =>
    (async () => {
      let text = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
      return text;
    })();
  const stdout = read(child.stdout);
  return { child, stdout, stderr: read(child.stderr) };
}

Deno.test({
  name: "on 2 hosts × 2 workers the job trains on two levels, and a killed worker's ring re-forms",
  ignore: !!unavailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await using hosts = await EmulatedHosts.create(2, { rate: "10gbit" });
    try {
      const config = `${dir}/job.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          model: { layers: 2, heads: 2, width: 64, contextLength: 32 },
          train: { microBatch: 2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 4 },
          hashEvery: 1,
          heartbeatMs: 250,
          deadAfterMs: 5000,
          minWorkers: 3,
        }),
      );
      const run = `${dir}/run`;
      const coordinator = spawnIn(hosts, 0, "coordinator/main.ts", [
        "--data",
        await licenseShards(`${dir}/data`),
        "--out",
        run,
        "--config",
        config,
        "--steps",
        "10",
        "--host",
        hosts.hosts[0].address,
        "--port",
        "7000",
        "--token",
        "hier-token",
      ]);
      const address = `${hosts.hosts[0].address}:7000`;
      const workers = [0, 0, 1, 1].map((host, i) =>
        spawnIn(hosts, host, "worker/training/worker_main.ts", [
          "--coordinator",
          address,
          "--threads",
          "1",
          "--name",
          `w${i}`,
          "--cache",
          `${dir}/cache-${i}`,
          "--host",
          hosts.hosts[host].address,
        ])
      );
      // Four ranks train a few steps together, then a worker of host 1 dies.
      for (let i = 0; i < 1200; i++) {
        const lines = await Deno.readTextFile(`${run}/data_ranges.jsonl`).catch(() => "");
        if (lines.split("\n").filter((l) => l.includes('"world_size":4')).length >= 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      workers[2].child.kill("SIGKILL");
      const done = await Promise.race([
        coordinator.child.status,
        new Promise<null>((r) => setTimeout(() => r(null), 120_000)),
      ]);
      assert.equal(done?.code, 0, `the coordinator finished: ${await coordinator.stdout}`);
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
      await Promise.all(workers.map((w) => w.child.status));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
