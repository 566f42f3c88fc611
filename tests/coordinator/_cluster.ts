/**
 * A coordinator and its workers as real processes on 127.0.0.1, on shards of real English text,
 * for the tests of this folder: start them, read what they print, wait for their run files, and
 * make sure none outlives its test.
 */
import assert from "node:assert/strict";
import { denoRun } from "../../model/subprocess.ts";
import { ingestLicence, tinyJob, workerArgs } from "../_tiny_job.ts";

/** Shards of real English text made by the real ingest CLI, shared by a test file's tests. */
export const data = await Deno.makeTempDir();
await ingestLicence(data);
globalThis.addEventListener("unload", () => Deno.removeSync(data, { recursive: true }));

/** A child process, what it printed, and the address it listens on once it says so. */
export interface Proc {
  child: Deno.ChildProcess;
  stdout: Promise<string>;
  /** What it logged on stderr (JSON lines), when spawned with `stderr: true`. */
  stderr: Promise<string>;
  address: Promise<string>;
}

/** How {@linkcode spawn} runs a process. */
export interface SpawnOptions {
  env?: Record<string, string>;
  /** Collect stderr (else it is dropped). */
  stderr?: boolean;
  /** A command that runs Deno elsewhere: a mount or network namespace (denoRun's `prefix`). */
  wrap?: string[];
}

/** Runs one of this project's entry points, collecting its output. */
export function spawn(script: string, args: string[], options: SpawnOptions = {}): Proc {
  const child = denoRun(script, args, {
    prefix: options.wrap,
    env: options.env,
    stdout: "piped",
    stderr: options.stderr ? "piped" : "null",
  }).spawn();
  let found: (a: string) => void = () => {};
  const address = new Promise<string>((r) => (found = r));
  const stdout = (async () => {
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const m = /listening on (\S+)/.exec(text);
      if (m) found(m[1]);
    }
    return text;
  })();
  const stderr = options.stderr ? new Response(child.stderr).text() : Promise.resolve("");
  return { child, stdout, stderr, address };
}

/** The exit code of `p`, killing it (and failing) if it has not ended within `ms`. */
export async function exitCode(p: Proc, ms = 120_000): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      p.child.kill("SIGKILL");
      resolve(-1);
    }, ms);
  });
  const code = await Promise.race([p.child.status.then((s) => s.code), timeout]);
  clearTimeout(timer);
  await p.stdout;
  await p.stderr;
  assert.notEqual(code, -1, `a process did not end within ${ms} ms`);
  return code;
}

/** Kills `p` if it still runs and waits for it: the cleanup of a test that failed half-way. */
export async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGKILL");
  } catch { /* already ended */ }
  await p.child.status;
  await p.stdout;
  await p.stderr;
}

/** Waits (up to `ms`, a hang guard) until RUN/data_ranges.jsonl satisfies `done`. */
export async function waitForRanges(
  run: string,
  done: (lines: string) => boolean,
  ms = 120_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done(await Deno.readTextFile(`${run}/data_ranges.jsonl`).catch(() => ""))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${run}/data_ranges.jsonl never reached the awaited state`);
}

/** A coordinator on the shared shards, writing to `run` with the job config at `config`. */
export function coordinator(
  run: string,
  config: string,
  args: string[],
  options: SpawnOptions = {},
): Proc {
  return spawn(
    "coordinator/main.ts",
    ["--data", data, "--out", run, "--config", config, ...args],
    options,
  );
}

/**
 * The flags of a job whose workers are started apart: `steps` steps, no step below `minWorkers`
 * workers, the job token (add `--port`).
 */
export function jobArgs(steps: number, token: string, minWorkers = 2): string[] {
  return ["--steps", String(steps), "--min-workers", String(minWorkers), "--token", token];
}

/** A coordinator that trains `steps` steps with 2 local workers of one thread each. */
export function localJob(run: string, config: string, steps: number): Proc {
  const args = ["--steps", String(steps), "--local-workers", "2", "--threads", "1", "--port", "0"];
  return coordinator(run, config, args);
}

/** A one-thread worker named `name` joining `address`, with its own shard cache. */
export function worker(
  run: string,
  address: string,
  name: string,
  token: string,
  args: string[] = [],
  options: Omit<SpawnOptions, "env"> = {},
): Proc {
  return spawn(
    "worker/training/worker_main.ts",
    [...workerArgs(address, name, `${run}/cache-${name}`), ...args],
    { ...options, env: { DENOFORMER_TOKEN: token } },
  );
}

/** Runs `fn` on a fresh run directory and a job config of {@linkcode tinyJob} with `over` on it. */
export async function withRun(
  fn: (run: string, config: string) => Promise<void>,
  over: Record<string, unknown> = {},
) {
  const dir = await Deno.makeTempDir();
  const config = `${dir}/job.json`;
  await Deno.writeTextFile(config, JSON.stringify({ ...tinyJob, ...over }));
  try {
    await fn(`${dir}/run`, config);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
