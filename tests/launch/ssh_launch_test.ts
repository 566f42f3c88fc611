/**
 * `deno task launch --hosts` through a real OpenSSH server on 127.0.0.1, reached as two hosts (two
 * aliases of a throwaway ssh config): a tiny job trains to the end with every worker under sshd,
 * the token on no command line, and a launcher killed mid-job leaves no process behind.
 */
import assert from "node:assert/strict";
import { processes, type ProcessInfo, waitUntilGone, watchSecret } from "../_processes.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { descendants, freePort, killTree } from "./_daemon.ts";
import { type JobDir, launch, makeJobDir } from "./_job.ts";
import { type Sshd, startSshd } from "./_sshd.ts";

const hosts = ["hosta", "hostb"];

async function withSshd(fn: (sshd: Sshd, job: JobDir) => Promise<void>): Promise<void> {
  const [sshd, job] = await Promise.all([startSshd(hosts), makeJobDir()]);
  try {
    await fn(sshd, job);
  } finally {
    await sshd.stop();
    await job.remove();
  }
}

/** The launcher's flags for `steps` steps of the job, 2 workers on each host, run in `run`. */
function launchArgs(sshd: Sshd, job: JobDir, run: string, steps: number): string[] {
  return [
    ...["--hosts", hosts.map((h) => `${h}:2`).join(","), "--ssh-config", sshd.config],
    ...["--token-file", job.tokenFile, "--"],
    ...["--data", job.data, "--out", run, "--config", job.config, "--steps", String(steps)],
  ];
}

/** This job's processes: each holds the token in its environment, or is an ssh client of the job. */
function ofJob(sshd: Sshd, job: JobDir): (p: ProcessInfo) => boolean {
  return (p) => p.environment.includes(job.token) || p.commandLine.includes(sshd.config);
}

/** Waits (a hang guard of two minutes) until `n` worker processes of the job are running. */
async function workersRunning(job: JobDir, n: number): Promise<ProcessInfo[]> {
  for (let i = 0; i < 480; i++) {
    const workers = (await processes()).filter((p) =>
      p.environment.includes(job.token) && p.commandLine.includes("worker/training/worker_main.ts")
    );
    if (workers.length === n) return workers;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${n} workers never ran at once`);
}

Deno.test("launch over ssh: a tiny job on two hosts trains to the end, every worker under sshd, the token on no command line", async () => {
  await withSshd(async (sshd, job) => {
    const run = `${job.dir}/run`;
    const watch = watchSecret(job.token);
    const launcher = launch(launchArgs(sshd, job, run, 4));
    let underSshd: boolean[] = [];
    try {
      const workers = await workersRunning(job, 4);
      const below = new Set(await descendants(sshd.pid));
      underSshd = workers.map((w) => below.has(w.pid));
    } catch (err) {
      await killTree(launcher.child.pid);
      throw new Error(`${(err as Error).message}\n${await launcher.output}`);
    } finally {
      await launcher.child.status;
    }
    const seen = await watch.stop();
    const output = await launcher.output;
    assert.equal((await launcher.child.status).code, 0, output);
    assert.deepEqual(underSshd, [true, true, true, true]);
    assert.deepEqual(seen.onCommandLines, []);
    // The scans saw the processes that held it: the coordinator and the 4 workers at least.
    assert.ok(seen.mostHolders >= 5, `only ${seen.mostHolders} processes held the token`);
    assert.equal((await readSummary(run)).step, 4);
    const records = await readStepRecords(run);
    assert.deepEqual(records.map((r) => [r.step, r.committed, r.world_size]), [
      [1, true, 4],
      [2, true, 4],
      [3, true, 4],
      [4, true, 4],
    ]);
    for (const [host, ranks] of [["hosta", [0, 1]], ["hostb", [2, 3]]] as const) {
      for (const rank of ranks) {
        assert.match(output, new RegExp(`^\\[${host} rank ${rank}\\] `, "m"));
      }
    }
    assert.match(output, /^\[\S+ coordinator\] trained to step 4/m);
    assert.deepEqual(await waitUntilGone(ofJob(sshd, job)), []);
  });
});

Deno.test("launch over ssh: a launcher killed mid-job (SIGKILL) leaves no process behind, the coordinator it ran on a host included", async () => {
  await withSshd(async (sshd, job) => {
    const launcher = launch([
      ...["--coordinator-host", "hostb"],
      ...launchArgs(sshd, job, `${job.dir}/run`, 10_000),
    ]);
    try {
      await workersRunning(job, 4);
      const coordinators = (await processes()).filter((p) =>
        p.environment.includes(job.token) && p.commandLine.includes("coordinator/main.ts")
      );
      const underSshd = new Set(await descendants(sshd.pid));
      assert.deepEqual(coordinators.map((p) => underSshd.has(p.pid)), [true]);
      const launchers = (await processes()).filter((p) =>
        p.ppid === launcher.child.pid && p.commandLine.includes("launch_main.ts")
      );
      assert.equal(launchers.length, 1);
      const killed = performance.now();
      Deno.kill(launchers[0].pid, "SIGKILL");
      assert.deepEqual(await waitUntilGone(ofJob(sshd, job)), []);
      console.log(
        `no process of the job left ${(performance.now() - killed).toFixed(0)} ms after SIGKILL`,
      );
      assert.deepEqual(await descendants(sshd.pid), [], "an ssh session outlived the launcher");
    } finally {
      await killTree(launcher.child.pid);
      await launcher.output;
    }
  });
});

Deno.test("launch over ssh: hosts that cannot run the job are named, and nothing starts", async () => {
  await withSshd(async (sshd, job) => {
    // An alias of a port where nothing listens: ssh fails at once.
    await Deno.writeTextFile(
      sshd.config,
      `Host nohost\n  HostName 127.0.0.1\n  Port ${freePort()}\n  BatchMode yes\n`,
      { append: true },
    );
    const launcher = launch([
      ...["--hosts", "hosta:2,nohost:1", "--ssh-config", sshd.config],
      ...["--remote-dir", `${job.dir}/no-checkout`, "--token-file", job.tokenFile, "--"],
      ...["--data", job.data, "--out", `${job.dir}/run`],
    ]);
    const [status, output] = await Promise.all([launcher.child.status, launcher.output]);
    assert.equal(status.code, 2, output);
    assert.match(output, /2 of 2 hosts cannot run the job/);
    assert.match(output, new RegExp(`hosta: no project at "${job.dir}/no-checkout"`));
    assert.match(output, /nohost: ssh failed: .*[Cc]onnection refused/);
    assert.equal(await Deno.stat(`${job.dir}/run`).then(() => true, () => false), false);
  });
});
