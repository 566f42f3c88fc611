/** What the tests that start system daemons (sshd, munged, slurmctld, slurmd) share. */
import assert from "node:assert/strict";
import { processes } from "../_processes.ts";

/** Every live process below `pid`. */
export async function descendants(pid: number): Promise<number[]> {
  const all = await processes();
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    frontier = all.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    found.push(...frontier);
  }
  return found;
}

/** Kills `pid` and every process below it (a failed test's launcher and all it started). */
export async function killTree(pid: number): Promise<void> {
  for (const p of [pid, ...await descendants(pid)]) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch { /* gone */ }
  }
}

/** A port nothing listens on now (the OS's pick for port 0). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Runs a command to the end, failing with its output if it fails. */
export async function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.ok(out.success, `${command} ${args.join(" ")} failed: ${text(out.stderr)}`);
  return text(out.stdout);
}

/** Ends a daemon this test started (SIGTERM) and waits for it. */
export async function stopProcess(child: Deno.ChildProcess | undefined): Promise<void> {
  if (!child) return;
  try {
    child.kill("SIGTERM");
  } catch { /* already exited */ }
  await child.status;
}
