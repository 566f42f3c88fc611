/**
 * A throwaway single-machine Slurm cluster: munged with a fresh key, slurmctld and slurmd on free
 * ports, one node of 2 CPUs, all state in a temporary directory, found by its commands through
 * SLURM_CONF. Fails (never skips) when a daemon cannot start.
 */
import { freePort, run, stopProcess } from "./_daemon.ts";

export interface SlurmCluster {
  /** The environment Slurm's commands need to find this cluster (SLURM_CONF). */
  env: Record<string, string>;
  /** The one node's name. */
  node: string;
  dir: string;
  /** The cluster's daemon logs, for a failing test's message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = await Deno.makeTempDir({ prefix: "denoformer-slurm-" });
  const env = { SLURM_CONF: `${dir}/slurm.conf` };
  const node = "launchtest";
  const daemons: Deno.ChildProcess[] = [];
  const exited: string[] = [];
  const daemon = (command: string, args: string[]) => {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args,
        env,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      })
        .spawn();
    } catch (err) {
      throw new Error(`Cannot start ${command} (.ci/run installs it): ${(err as Error).message}`);
    }
    child.status.then((s) => exited.push(`${command} exited with code ${s.code}`));
    daemons.push(child);
  };
  const logs = async () => {
    const parts = [];
    for (const name of ["munged.log", "slurmctld.log", "slurmd.log"]) {
      const text = await Deno.readTextFile(`${dir}/${name}`).catch(() => "(none)");
      parts.push(`--- ${name}\n${text.split("\n").slice(-20).join("\n")}`);
    }
    return parts.join("\n");
  };
  const stop = async () => {
    // Jobs first: their step daemons (slurmstepd) are not children of slurmd.
    const jobs = (await run("squeue", ["--noheader", "--format=%i"], env).catch(() => ""))
      .split("\n").filter((j) => j.trim());
    if (jobs.length > 0) await run("scancel", jobs, env).catch(() => {});
    for (let i = 0; i < 40 && jobs.length > 0; i++) {
      if (!(await run("squeue", ["--noheader"], env).catch(() => "")).trim()) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const d of daemons.reverse()) await stopProcess(d);
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const user = (await run("id", ["-un"])).trim();
    await Deno.mkdir(`${dir}/state`);
    await Deno.mkdir(`${dir}/spool`);
    await Deno.writeFile(`${dir}/munge.key`, crypto.getRandomValues(new Uint8Array(1024)), {
      mode: 0o600,
    });
    await Deno.writeTextFile(env.SLURM_CONF, slurmConf(dir, user, node, Deno.hostname()));
    daemon("munged", [
      "--foreground",
      "--force",
      `--socket=${dir}/munge.socket`,
      `--key-file=${dir}/munge.key`,
      `--pid-file=${dir}/munged.pid`,
      `--seed-file=${dir}/munged.seed`,
      `--log-file=${dir}/munged.log`,
    ]);
    const ready = (check: () => Promise<boolean>, failure: string) =>
      until(check, () => exited, failure, logs);
    await ready(() => exists(`${dir}/munge.socket`), "munged never made its socket");
    daemon("slurmctld", ["-D", "-i"]);
    daemon("slurmd", ["-D", "-N", node]);
    await ready(
      async () =>
        (await run("sinfo", ["--noheader", "--format=%t"], env).catch(() => "")).trim() === "idle",
      `node "${node}" never became idle`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { env, node, dir, logs, stop };
}

/** The cluster's config; slurmctld runs only on the host its SlurmctldHost names: `controller`. */
function slurmConf(dir: string, user: string, node: string, controller: string): string {
  return [
    "ClusterName=denoformer-test",
    `SlurmctldHost=${controller.split(".")[0]}(127.0.0.1)`,
    `SlurmctldPort=${freePort()}`,
    `SlurmdPort=${freePort()}`,
    `SlurmUser=${user}`,
    `SlurmdUser=${user}`,
    "AuthType=auth/munge",
    "CredType=cred/munge",
    `AuthInfo=socket=${dir}/munge.socket`,
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`,
    `SlurmdLogFile=${dir}/slurmd.log`,
    // Tracks a step's processes by parent id: no cgroups needed, and still every descendant.
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_CPU",
    "MpiDefault=none",
    "ReturnToService=2",
    "KillWait=10",
    "JobCompType=jobcomp/none",
    "AccountingStorageType=accounting_storage/none",
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
  ].join("\n") + "\n";
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * Polls `ready` for up to a minute (a hang guard, not a speed check); fails at once, with the
 * logs, when a daemon has exited.
 */
async function until(
  ready: () => Promise<boolean>,
  exited: () => string[],
  failure: string,
  logs: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    const why = exited().length > 0 ? exited().join("; ") : Date.now() > deadline ? failure : "";
    if (why) throw new Error(`${why}\n${await logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
