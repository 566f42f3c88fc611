/**
 * What each task of the launcher's `srun` runs: one training worker on this task's device, with
 * its output labelled by node and rank. slurmstepd signals this process when the step ends or the
 * job is cancelled (`scancel`); it stops the worker and exits.
 *
 *   deno run -A coordinator/launch/slurm_task_main.ts --device cpu|cuda|webgpu \
 *     --node-addresses NODE=ADDR,... [--threads N] -- WORKER FLAGS
 */
import { parseArgs } from "node:util";
import { intFlag, reportAndExit } from "../../model/cli.ts";
import { InputError } from "../../model/errors.ts";
import { DeviceKind } from "./device.ts";
import { parseNodeAddresses, slurmWorker } from "./slurm_task.ts";
import { scripts } from "./scripts.ts";
import { Supervisor } from "./supervise.ts";

if (import.meta.main) await main(Deno.args).catch(reportAndExit);

async function main(args: string[]): Promise<void> {
  const split = args.indexOf("--");
  const { values: f } = parseArgs({
    args: split < 0 ? args : args.slice(0, split),
    options: {
      device: { type: "string", default: "cpu" },
      "node-addresses": { type: "string", default: "" },
      threads: { type: "string" },
    },
  });
  const kind = DeviceKind.safeParse(f.device);
  if (!kind.success) {
    throw new InputError("--device", `expected cpu, cuda or webgpu, got "${f.device}"`);
  }
  const token = Deno.env.get("DENOFORMER_TOKEN");
  if (!token) throw new InputError("DENOFORMER_TOKEN", "is not set: srun passes on the launcher's");
  const w = slurmWorker(Deno.env.toObject(), kind.data, parseNodeAddresses(f["node-addresses"]!));
  const threads = intFlag(f.threads, "--threads") ?? w.threads;
  const supervisor = new Supervisor([{
    label: `${w.node} rank ${w.rank}`,
    script: scripts.worker,
    args: [
      ...(split < 0 ? [] : args.slice(split + 1)),
      ...["--device", w.device, "--host", w.host, "--name", `${w.node}-${w.rank}`],
      ...["--threads", String(threads)],
    ],
  }], token);
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => supervisor.stop());
  }
  Deno.exit(await supervisor.done);
}
