/**
 * One Slurm task's worker, from the environment slurmstepd gives the task: its rank, its node, and
 * which GPU it drives.
 */
import { InputError } from "../../model/errors.ts";
import { deviceFor, type DeviceKind } from "./device.ts";

/** What a worker started by one Slurm task is told. */
export interface SlurmWorker {
  /** The task's global rank (SLURM_PROCID), shown in front of its output. */
  rank: number;
  node: string;
  device: string;
  /** The address the node is reached at (Slurm's NodeAddr), where the worker's peer server binds. */
  host: string;
  threads: number;
}

/**
 * The worker of the task whose environment is `env`. Local task i drives GPU i, counted among the
 * GPUs the task can see: when Slurm binds one GPU to each task (`--gpus-per-task=1`,
 * `--gpu-bind=single:1`), CUDA_VISIBLE_DEVICES holds that GPU alone and it is `cuda:0` to the task.
 * Threads: the task's CPUs (`--cpus-per-task`, default 1).
 */
export function slurmWorker(
  env: Record<string, string | undefined>,
  kind: DeviceKind,
  addresses: Map<string, string>,
): SlurmWorker {
  const int = (name: string, fallback?: number) => {
    const text = env[name];
    if (text === undefined && fallback !== undefined) return fallback;
    const n = Number(text);
    if (text === undefined || !Number.isInteger(n) || n < 0) {
      throw new InputError(name, `expected a Slurm task's integer, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const local = int("SLURM_LOCALID");
  const node = env.SLURMD_NODENAME;
  if (!node) throw new InputError("SLURMD_NODENAME", "is not set: not a Slurm task");
  const host = addresses.get(node);
  if (!host) throw new InputError("--node-addresses", `names no address for node "${node}"`);
  return {
    rank: int("SLURM_PROCID"),
    node,
    device: deviceFor(kind, kind === "cuda" ? cudaIndex(local, env.CUDA_VISIBLE_DEVICES) : local),
    host,
    threads: Math.max(1, int("SLURM_CPUS_PER_TASK", 1)),
  };
}

/** The CUDA device index of local task `local`, among the GPUs CUDA_VISIBLE_DEVICES lets it see. */
function cudaIndex(local: number, visible: string | undefined): number {
  if (visible === undefined) return local;
  const count = visible.split(",").filter((d) => d.trim() !== "").length;
  if (count === 1) return 0;
  if (local < count) return local;
  throw new InputError(
    "CUDA_VISIBLE_DEVICES",
    `local task ${local} sees ${count} GPUs ("${visible}"): ask Slurm for one GPU per task`,
  );
}

/** Parses `--node-addresses name=addr,name=addr`. */
export function parseNodeAddresses(text: string): Map<string, string> {
  return new Map(
    text.split(",").filter((s) => s).map((pair) => {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new InputError("--node-addresses", `expected NODE=ADDRESS, got "${pair}"`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}
