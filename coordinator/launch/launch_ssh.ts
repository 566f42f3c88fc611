/**
 * `deno task launch --hosts …`: checks every host, starts the coordinator (here, or on a named
 * host), then one host agent per host over ssh that runs that host's workers, one per slot.
 */
import type { AgentSpec } from "./agent_protocol.ts";
import { deviceFor, type DeviceKind } from "./device.ts";
import type { HostSlots } from "./hosts.ts";
import { type Part, startPart } from "./part.ts";
import { type HostFacts, localReference, preflight } from "./preflight.ts";
import { coordinatorJob, runJob, say } from "./run_job.ts";
import { scripts } from "./scripts.ts";
import { shellQuote, sshArgs, type SshOptions } from "./ssh.ts";

export interface SshLaunch {
  hosts: HostSlots[];
  /** The flag that named the hosts, for errors: `--hosts` or `--hostfile FILE`. */
  hostsFlag: string;
  /** Where the coordinator runs; undefined: on this machine. */
  coordinatorHost?: string;
  device: DeviceKind;
  /** onnxruntime threads per worker; default: the host's cores shared among its slots. */
  threads?: number;
  port: number;
  /** The project's directory on the hosts. */
  remoteDir: string;
  /** Deno on the hosts. */
  remoteDeno: string;
  ssh: SshOptions;
  token: string;
  coordinatorArgs: string[];
}

const root = new URL("../../", import.meta.url).pathname;

/** Runs the job over ssh and returns the launcher's exit code. */
export async function launchOverSsh(o: SshLaunch): Promise<number> {
  const names = [
    ...new Set([...o.hosts.map((h) => h.host), ...o.coordinatorHost ? [o.coordinatorHost] : []]),
  ];
  const facts = await preflight(names, {
    dir: o.remoteDir,
    deno: o.remoteDeno,
    ssh: o.ssh,
    reference: await localReference(),
    flag: o.hostsFlag,
  });
  const workers = o.hosts.reduce((n, h) => n + h.slots, 0);
  say(`${names.length} hosts ready (Deno and deno.lock as here); starting ${workers} workers`);
  const { part: coordinator, address } = startCoordinator(o, facts, workers);
  return await runJob(coordinator, address, (listening) => {
    const port = listening.slice(listening.lastIndexOf(":") + 1);
    let rank = 0;
    return o.hosts.map((h) => {
      const f = facts.get(h.host)!;
      // Each host dials the coordinator where it sees it: a local one at the address this machine
      // has on the host's side of the ssh connection.
      const dial = o.coordinatorHost ? facts.get(o.coordinatorHost)!.address : f.launcherAddress;
      const threads = o.threads ?? Math.max(1, Math.floor(f.cpus / h.slots));
      const processes = Array.from({ length: h.slots }, (_, slot) => ({
        label: `${h.host} rank ${rank++}`,
        script: scripts.worker,
        args: [
          ...["--coordinator", `${bracketed(dial)}:${port}`, "--device", deviceFor(o.device, slot)],
          ...["--host", f.address, "--name", `${h.host}-${slot}`, "--threads", String(threads)],
        ],
      }));
      return overSsh(h.host, o, { token: o.token, processes });
    });
  });
}

/** Starts the coordinator's agent; `address` resolves with what the coordinator says it listens on. */
function startCoordinator(
  o: SshLaunch,
  facts: Map<string, HostFacts>,
  workers: number,
): { part: Part; address: Promise<string> } {
  const remote = o.coordinatorHost;
  const seenAt = new Set(o.hosts.map((h) => facts.get(h.host)!.launcherAddress));
  // A local coordinator listens where the hosts see this machine; on all interfaces if they see it
  // at more than one address.
  const bind = remote ? facts.get(remote)!.address : seenAt.size === 1 ? [...seenAt][0] : "0.0.0.0";
  const job = coordinatorJob({
    ...o,
    label: `${remote ?? Deno.hostname()} coordinator`,
    bind,
    workers,
  });
  const agent = ["run", "--allow-all", `${root}${scripts.agent}`];
  const part = remote
    ? overSsh(remote, o, job.spec, job.onLine)
    : startPart("the coordinator", Deno.execPath(), agent, job);
  return { part, address: job.address };
}

/** A host agent over ssh, running `spec`. */
function overSsh(
  host: string,
  o: SshLaunch,
  spec: AgentSpec,
  onLine?: (line: string) => void,
): Part {
  const command = `cd ${shellQuote(o.remoteDir)} && exec ${shellQuote(o.remoteDeno)} run ` +
    `--allow-all ${scripts.agent}`;
  return startPart(host, "ssh", sshArgs(host, command, o.ssh), { spec, onLine });
}

/** An address as the host part of HOST:PORT (IPv6 in brackets). */
function bracketed(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
