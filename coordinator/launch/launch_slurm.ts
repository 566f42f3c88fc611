/**
 * `deno task launch --slurm`, inside an allocation (`sbatch`, `salloc`): the coordinator runs on
 * the allocation's first node as a job step of its own, and the workers as one `srun` step with one
 * worker per task. Slurm owns every process: `scancel` ends them all.
 */
import { InputError } from "../../model/errors.ts";
import type { DeviceKind } from "./device.ts";
import { startPart } from "./part.ts";
import { coordinatorJob, runJob } from "./run_job.ts";
import { scripts } from "./scripts.ts";

export interface SlurmLaunch {
  device: DeviceKind;
  /** onnxruntime threads per worker; default: the task's CPUs (`--cpus-per-task`). */
  threads?: number;
  port: number;
  token: string;
  coordinatorArgs: string[];
}

const root = new URL("../../", import.meta.url).pathname;

/** Runs the job in the current Slurm allocation and returns the launcher's exit code. */
export async function launchUnderSlurm(o: SlurmLaunch): Promise<number> {
  const nodeList = Deno.env.get("SLURM_JOB_NODELIST");
  const tasks = Deno.env.get("SLURM_NTASKS");
  if (!Deno.env.get("SLURM_JOB_ID") || !nodeList || !tasks) {
    throw new InputError("--slurm", "not inside a Slurm allocation: run it from sbatch or salloc");
  }
  const nodes = (await output("scontrol", ["show", "hostnames", nodeList])).split("\n");
  const addresses = await nodeAddresses(nodeList);
  // Workers dial the coordinator, and each other, where Slurm itself reaches their nodes.
  const first = nodes[0], bind = addresses.get(first)!;
  const deno = [Deno.execPath(), "run", "--allow-all"];
  const job = coordinatorJob({
    ...o,
    label: `${first} coordinator`,
    bind,
    workers: Number(tasks),
  });
  // --overlap: the coordinator shares the first node's CPUs with the workers' step instead of
  // holding one of them back.
  const coordinator = startPart("the coordinator", "srun", [
    ...["--overlap", "--nodes=1", "--ntasks=1", `--nodelist=${first}`, "--kill-on-bad-exit=1"],
    ...deno,
    `${root}${scripts.agent}`,
  ], job);
  return await runJob(coordinator, job.address, (listening) => [
    startPart("the workers' step", "srun", [
      `--ntasks=${tasks}`,
      "--kill-on-bad-exit=1",
      ...deno,
      `${root}${scripts.slurmTask}`,
      ...[
        "--device",
        o.device,
        "--node-addresses",
        [...addresses].map((a) => a.join("=")).join(","),
      ],
      ...o.threads ? ["--threads", String(o.threads)] : [],
      ...["--", "--coordinator", listening],
    ], { env: { DENOFORMER_TOKEN: o.token } }),
  ]);
}

/** NodeName → NodeAddr of the allocation's nodes: the address Slurm reaches each node at. */
async function nodeAddresses(nodeList: string): Promise<Map<string, string>> {
  const text = await output("sinfo", [
    "--noheader",
    "--Node",
    `--nodes=${nodeList}`,
    "--format=%N %o",
  ]);
  return new Map(text.split("\n").map((line) => line.trim().split(/\s+/) as [string, string]));
}

async function output(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed: ${text(out.stderr)}`);
  return text(out.stdout);
}
