/**
 * `deno task launch`: one command starts a whole training job on the hosts it names, streams their
 * output back, and tears everything down when the job ends, fails or is interrupted.
 *
 *   deno task launch --hosts gpu1:4,gpu2:4 --device cuda -- --data data/ --out runs/x
 *   deno task launch --hostfile hosts.txt -- --config job.json --data data/ --out runs/x
 *   deno task launch --slurm --device cuda -- --data data/ --out runs/x   (in sbatch or salloc)
 */
import { parseArgs } from "node:util";
import { intFlag, runCli, secretFlag } from "../../model/cli.ts";
import { InputError } from "../../model/errors.ts";
import { DeviceKind } from "./device.ts";
import { type HostSlots, parseHostfile, parseHostList } from "./hosts.ts";
import { launchOverSsh } from "./launch_ssh.ts";
import { launchUnderSlurm } from "./launch_slurm.ts";

const usage = `Usage: deno task launch (--hosts H:N,... | --hostfile FILE | --slurm) [options] \\
         -- COORDINATOR FLAGS

Hosts (each reached over ssh, even this one; every host needs this checkout at --remote-dir with
the same Deno and deno.lock, which is checked first):
  --hosts H:N,...        hosts and their worker slots, e.g. gpu1:4,gpu2:4 (a bare name has 1)
  --hostfile FILE        one host per line: "gpu1 slots=4" (DeepSpeed, Horovod), "#" comments
  --coordinator-host H   run the coordinator on H (default: here)
  --remote-dir DIR       the project on the hosts (default: this checkout's path)
  --remote-deno PATH     Deno on the hosts (default: deno on the PATH ssh gives)
  --ssh-config FILE      ssh config to use (ssh -F); aliases, users, ports and keys live there

Slurm:
  --slurm                inside an allocation (sbatch, salloc): the coordinator on its first node,
                         one worker per task through srun; scancel stops everything

Both:
  --device KIND          cpu | cuda | webgpu (default cpu); slot or local task i gets cuda:i,
                         every webgpu worker plain webgpu (no adapter index; docs/gpu.md)
  --threads N            onnxruntime threads per worker (default: the host's cores / its slots;
                         under Slurm, --cpus-per-task)
  --port P               coordinator port (default 0: a free one)
  --token-file F         file holding the job token; or DENOFORMER_TOKEN; default: a random one.
                         Hosts get it on ssh's stdin, processes in their environment, never on a
                         command line

Coordinator flags, after --, as deno task coordinator takes them:
  --data DIR --out RUN   the ingested data and the run directory (on the coordinator's host)
  --config FILE          job config JSON
  --steps N              optimizer steps
  --resume               continue from RUN's latest checkpoint
  --min-workers N        (default: every worker launched)

Ctrl-C once: the coordinator finishes the step in flight, checkpoints and ends the job; twice:
everything stops at once. Exit code: 0 when the job finished, 130 after Ctrl-C, 143 after SIGTERM
(scancel), 1 on a failure (the launcher names the host or step that failed).
`;

/** Coordinator flags the launcher sets itself. */
const launcherOwned = ["--host", "--port", "--token", "--token-file", "--local-workers"];

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const split = args.indexOf("--");
  const { values: f } = parseArgs({
    args: split < 0 ? args : args.slice(0, split),
    options: {
      hosts: { type: "string" },
      hostfile: { type: "string" },
      slurm: { type: "boolean", default: false },
      "coordinator-host": { type: "string" },
      "remote-dir": { type: "string" },
      "remote-deno": { type: "string", default: "deno" },
      "ssh-config": { type: "string" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      port: { type: "string", default: "0" },
      token: { type: "string" },
      "token-file": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  const coordinatorArgs = split < 0 ? [] : args.slice(split + 1);
  const owned = coordinatorArgs.find((a) => launcherOwned.includes(a.split("=")[0]));
  if (owned) throw new InputError(owned, "is the launcher's to set: give it before --, if at all");
  const device = DeviceKind.safeParse(f.device);
  if (!device.success) {
    throw new InputError("--device", `expected cpu, cuda or webgpu, got "${f.device}"`);
  }
  const common = {
    device: device.data,
    threads: positive(intFlag(f.threads, "--threads"), "--threads"),
    port: intFlag(f.port, "--port")!,
    token: await secretFlag(f, "token", "DENOFORMER_TOKEN") ?? crypto.randomUUID(),
    coordinatorArgs,
  };
  const ways = [f.hosts, f.hostfile, f.slurm || undefined].filter((w) => w !== undefined);
  if (ways.length !== 1) {
    throw new InputError("--hosts", "give one of --hosts, --hostfile or --slurm");
  }
  if (f.slurm) Deno.exit(await launchUnderSlurm(common));
  const { hosts, hostsFlag } = await readHosts(f.hosts, f.hostfile);
  Deno.exit(
    await launchOverSsh({
      ...common,
      hosts,
      hostsFlag,
      coordinatorHost: f["coordinator-host"],
      remoteDir: f["remote-dir"] ?? new URL("../../", import.meta.url).pathname.replace(/\/$/, ""),
      remoteDeno: f["remote-deno"]!,
      ssh: { config: f["ssh-config"] },
    }),
  );
}

async function readHosts(
  list: string | undefined,
  file: string | undefined,
): Promise<{ hosts: HostSlots[]; hostsFlag: string }> {
  if (list !== undefined) return { hosts: parseHostList(list), hostsFlag: "--hosts" };
  let text: string;
  try {
    text = await Deno.readTextFile(file!);
  } catch (err) {
    throw new InputError("--hostfile", `cannot read "${file}": ${(err as Error).message}`);
  }
  return { hosts: parseHostfile(text, file!), hostsFlag: `--hostfile ${file}` };
}

function positive(n: number | undefined, flag: string): number | undefined {
  if (n === 0) throw new InputError(flag, "must be at least 1");
  return n;
}
