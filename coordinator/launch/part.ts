/**
 * A process the launcher started and must stop: a host agent (here, over ssh, or under srun) or an
 * srun step. Each is detached from the launcher's terminal, so Ctrl-C reaches the launcher alone
 * and it decides what each part hears.
 */
import type { AgentSpec } from "./agent_protocol.ts";
import { relayLines, stderrLine, stdoutLine } from "./lines.ts";

export interface Part {
  /** Who it is in the launcher's messages, e.g. `gpu1` or `workers`. */
  name: string;
  status: Promise<Deno.CommandStatus>;
  /** Passes a Ctrl-C on (to the coordinator: finish the step in flight, checkpoint, end the job). */
  interrupt(): void;
  /** Asks it to stop everything it runs. */
  stop(): void;
  /** Ends the local process at once: the last resort when stopping takes too long. */
  kill(): void;
}

export interface PartOptions {
  /** Makes the process an agent: it reads this spec from stdin, and the open pipe is its lifeline. */
  spec?: AgentSpec;
  env?: Record<string, string>;
  /** Called with each line the process prints on stdout, after it is relayed. */
  onLine?: (line: string) => void;
}

/** Starts `command args`, relaying its output as it is (agents label their processes' lines). */
export function startPart(name: string, command: string, args: string[], o: PartOptions): Part {
  const child = new Deno.Command(command, {
    args,
    env: o.env,
    detached: true,
    stdin: o.spec ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = o.spec ? child.stdin.getWriter() : undefined;
  const encoder = new TextEncoder();
  const send = (message: unknown) =>
    stdin?.write(encoder.encode(JSON.stringify(message) + "\n")).catch(() => {});
  if (o.spec) send(o.spec);
  const relayed = Promise.all([
    relayLines(child.stdout, "", (line) => {
      stdoutLine(line);
      o.onLine?.(line);
    }),
    relayLines(child.stderr, "", stderrLine),
  ]);
  const ignoreGone = (f: () => void) => {
    try {
      f();
    } catch { /* it already exited */ }
  };
  return {
    name,
    status: relayed.then(() => child.status),
    interrupt: () => o.spec ? send({ signal: "SIGINT" }) : ignoreGone(() => child.kill("SIGINT")),
    stop: () => o.spec ? stdin?.close().catch(() => {}) : ignoreGone(() => child.kill("SIGTERM")),
    kill: () => ignoreGone(() => child.kill("SIGKILL")),
  };
}
