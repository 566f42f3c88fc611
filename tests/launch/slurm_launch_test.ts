/**
 * The example sbatch script (deploy/slurm/train.sbatch) on a real single-machine Slurm cluster:
 * one worker per task trains, `scancel` mid-run stops every process, and the same script with
 * `--resume` finishes the run from its latest checkpoint.
 */
import assert from "node:assert/strict";
import { processes, waitUntilGone, watchSecret } from "../_processes.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { run } from "./_daemon.ts";
import { type JobDir, latestCheckpoint, makeJobDir } from "./_job.ts";
import { type SlurmCluster, startSlurm } from "./_slurm.ts";

const root = new URL("../../", import.meta.url).pathname;

/** Submits the example script: 2 tasks on the one node, on the CPU; `coordinatorArgs` after it. */
async function sbatch(
  slurm: SlurmCluster,
  job: JobDir,
  coordinatorArgs: string[],
): Promise<string> {
  const out = await run("sbatch", [
    "--parsable",
    // The script asks for 2 nodes of 4 GPUs; this cluster is one node of 2 CPUs.
    ...["--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1", "--gpus-per-node=0"],
    `--output=${job.dir}/slurm-%j.out`,
    `--chdir=${root}`,
    `${root}deploy/slurm/train.sbatch`,
    ...coordinatorArgs,
  ], {
    ...slurm.env,
    DEVICE: "cpu",
    DATA: job.data,
    RUN: `${job.dir}/run`,
    CONFIG: job.config,
    DENOFORMER_TOKEN: job.token,
  });
  return out.trim().split(";")[0];
}

async function jobState(slurm: SlurmCluster, id: string): Promise<string> {
  const text = await run("scontrol", ["show", "job", id], slurm.env);
  return /JobState=(\S+)/.exec(text)?.[1] ?? "";
}

/** Polls `ready` until it holds; the deadline (two minutes) only guards against a hang. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`Never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test("launch --slurm: the sbatch script trains one worker per task, scancel stops everything, --resume finishes the run", async () => {
  const [slurm, job] = await Promise.all([startSlurm(), makeJobDir()]);
  const runDir = `${job.dir}/run`;
  const watch = watchSecret(job.token);
  const outputs = async () => {
    const files = [...Deno.readDirSync(job.dir)].filter((e) => e.name.startsWith("slurm-"));
    const texts = files.map((e) => Deno.readTextFileSync(`${job.dir}/${e.name}`));
    return `${texts.join("\n")}\n${await slurm.logs()}`;
  };
  try {
    const first = await sbatch(slurm, job, ["--steps", "10000"]);
    try {
      await until(async () => (await latestCheckpoint(runDir)) >= 2, "a checkpoint at step 2");
      const workers = (await processes()).filter((p) =>
        p.environment.includes(job.token) &&
        p.commandLine.includes("worker/training/worker_main.ts")
      );
      const localIds = workers.map((w) => /SLURM_LOCALID=(\d+)/.exec(w.environment)?.[1]).sort();
      assert.deepEqual(localIds, ["0", "1"], "one worker per task");
      for (const w of workers) assert.match(w.commandLine, /--device cpu /);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await outputs()}`);
    }
    const cancelled = performance.now();
    await run("scancel", [first], slurm.env);
    const left = await waitUntilGone((p) => p.environment.includes(job.token));
    console.log(
      `no process of the job left ${(performance.now() - cancelled).toFixed(0)} ms after scancel`,
    );
    assert.deepEqual(left, [], "processes outlived scancel");
    // Slurm itself is done with the job a moment later (COMPLETING, then CANCELLED).
    await until(async () => (await jobState(slurm, first)) === "CANCELLED", "job state CANCELLED");

    const resumedFrom = await latestCheckpoint(runDir);
    const before = (await readStepRecords(runDir)).length;
    const steps = resumedFrom + 4;
    const second = await sbatch(slurm, job, ["--steps", String(steps), "--resume"]);
    // Polled here: sbatch --wait looks at the job only every half a minute or so.
    const ended = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"];
    await until(async () => ended.includes(await jobState(slurm, second)), "the resumed job's end");
    assert.equal(await jobState(slurm, second), "COMPLETED", await outputs());
    assert.equal((await readSummary(runDir)).step, steps);
    const resumed = (await readStepRecords(runDir)).slice(before);
    // It went on from the checkpoint's step and data position: 2 tasks × 2 × 2 samples a step.
    assert.deepEqual(
      resumed.map((r) => [r.step, r.committed, r.world_size, r.ranges[0].start]),
      [1, 2, 3, 4].map((i) => [resumedFrom + i, true, 2, (resumedFrom + i - 1) * 8]),
    );
    assert.deepEqual(await waitUntilGone((p) => p.environment.includes(job.token)), []);
  } finally {
    await watch.stop();
    await slurm.stop();
    await job.remove();
  }
  const seen = await watch.stop();
  assert.deepEqual(seen.onCommandLines, []);
  // The coordinator, the workers and the tasks that run them held it, none on a command line.
  assert.ok(seen.mostHolders >= 5, `only ${seen.mostHolders} processes held the token`);
});
