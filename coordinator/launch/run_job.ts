/**
 * The launcher's life: start the coordinator, wait until it listens, start the workers, and end
 * the job when the coordinator ends, or fail it when a worker (or a host) fails first. Whatever
 * way it ends (success, failure, Ctrl-C, SIGTERM), every part is stopped before this returns.
 */
import { stderrLine } from "./lines.ts";
import type { AgentSpec } from "./agent_protocol.ts";
import type { Part } from "./part.ts";
import { scripts } from "./scripts.ts";

/** How long parts get to end on their own after the coordinator finished, or after a stop. */
const graceMs = 30_000;

/**
 * Runs the job and returns the launcher's exit code: 0 when the coordinator finished, 130 after
 * Ctrl-C, 143 after SIGTERM (scancel), 1 on any failure.
 */
export async function runJob(
  coordinator: Part,
  address: Promise<string>,
  startWorkers: (address: string) => Part[],
): Promise<number> {
  const parts = [coordinator];
  let interrupts = 0, terminated = false;
  const stopAll = () => stop(parts);
  const onInterrupt = () => {
    if (interrupts++ > 0) return void stopAll();
    say("finishing the step in flight and saving a checkpoint (Ctrl-C again to stop at once)");
    coordinator.interrupt();
  };
  const onTerminate = () => {
    terminated = true;
    stopAll();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onTerminate);
  try {
    const listening = await Promise.race([
      address,
      coordinator.status.then(() => undefined),
    ]);
    if (!listening || terminated || interrupts > 0) {
      await stopAll();
      if (terminated) return 143;
      if (interrupts > 0) return 130;
      say(`${coordinator.name} exited before it listened`);
      return 1;
    }
    const workers = startWorkers(listening);
    parts.push(...workers);
    const failed = new Promise<Part>((resolve) => {
      for (const w of workers) w.status.then((s) => s.success || resolve(w));
    });
    const first = await Promise.race([coordinator.status, failed]);
    const ended = "success" in first ? coordinator : first;
    const status = await ended.status;
    // Workers leave as soon as they hear that the job is done; stragglers are stopped below.
    if (ended === coordinator && status.success) await waitAll(workers, graceMs);
    const asked = terminated || interrupts > 1;
    if (!status.success && !asked) say(`${ended.name} failed (exit code ${status.code})`);
    await stopAll();
    if (terminated) return 143;
    if (interrupts > 0) return 130;
    return ended === coordinator && status.success ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onTerminate);
  }
}

/** Stops every part, and kills the local process of any that has not ended after the grace. */
async function stop(parts: Part[]): Promise<void> {
  for (const p of parts) p.stop();
  if (!(await waitAll(parts, graceMs))) {
    for (const p of parts) p.kill();
    await waitAll(parts, graceMs);
  }
}

/** Whether every part ended within `ms`. */
async function waitAll(parts: Part[], ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  const ended = await Promise.race([
    Promise.all(parts.map((p) => p.status)).then(() => true),
    timeout,
  ]);
  clearTimeout(timer);
  return ended;
}

/**
 * The coordinator's agent spec for a job of `workers` workers: the user's coordinator flags plus
 * where it listens. `onLine` watches the agent's output; `address` resolves with where the
 * coordinator says it listens.
 */
export function coordinatorJob(o: {
  token: string;
  label: string;
  coordinatorArgs: string[];
  bind: string;
  port: number;
  workers: number;
}): { spec: AgentSpec; onLine: (line: string) => void; address: Promise<string> } {
  const args = [...o.coordinatorArgs, "--host", o.bind, "--port", String(o.port)];
  // Every worker trains from the first step (the coordinator alone would start with the first).
  if (!o.coordinatorArgs.includes("--min-workers")) args.push("--min-workers", String(o.workers));
  let found: (address: string) => void = () => {};
  const address = new Promise<string>((resolve) => found = resolve);
  return {
    spec: { token: o.token, processes: [{ label: o.label, script: scripts.coordinator, args }] },
    onLine: (line) => {
      const m = /^\[[^\]]*coordinator\] listening on (\S+)$/.exec(line);
      if (m) found(m[1]);
    },
    address,
  };
}

/** A message of the launcher's own. */
export function say(message: string): void {
  stderrLine(`[launch] ${message}`);
}
