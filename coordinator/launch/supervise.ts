/**
 * Runs Deno entry points of the project as child processes of this one, relays their output line
 * by line with a label in front, and stops them all: the core of the host agent and of a Slurm task.
 */
import { relayLines, stderrLine, stdoutLine } from "./lines.ts";
import { denoRun } from "../../model/subprocess.ts";

/** One process to run: a script of the project (a path from its root) and its arguments. */
export interface ChildSpec {
  /** Shown in front of each of its lines, e.g. `gpu1 rank 3`. */
  label: string;
  script: string;
  args: string[];
}

/** Processes started together and stopped together. */
export class Supervisor {
  /** Resolves once every child exited: 0 if all succeeded, else the first failure's exit code. */
  readonly done: Promise<number>;
  readonly #children: Deno.ChildProcess[];
  #stopping = false;

  /** Starts `specs`, each with the job `token` in its environment (never on its command line). */
  constructor(specs: ChildSpec[], token: string, extraEnv: Record<string, string> = {}) {
    this.#children = specs.map((spec) =>
      denoRun(spec.script, spec.args, {
        env: { ...extraEnv, DENOFORMER_TOKEN: token },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    this.done = Promise.all(this.#children.map(async (child, i) => {
      const label = `[${specs[i].label}] `;
      const [status] = await Promise.all([
        child.status,
        relayLines(child.stdout, label, stdoutLine),
        relayLines(child.stderr, label, stderrLine),
      ]);
      if (!status.success && !this.#stopping) {
        stderrLine(`${label}exited with ${status.signal ?? `code ${status.code}`}`);
      }
      return status.code;
    })).then((codes) => codes.find((c) => c !== 0) ?? 0);
  }

  /** Passes `signal` on to every child still running (SIGINT: the coordinator finishes the step). */
  signal(signal: Deno.Signal): void {
    for (const child of this.#children) {
      try {
        child.kill(signal);
      } catch { /* it already exited */ }
    }
  }

  /** Asks every child to end (SIGTERM), then ends the ones still running after `graceMs` (SIGKILL). */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.done;
    clearTimeout(timer);
  }
}
