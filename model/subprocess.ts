/**
 * Running this project's own entry points as child processes: the coordinator starts workers and
 * the demo's server, tests and benchmarks start real servers. One place spells out the command.
 *
 * @example
 * ```ts
 * const server = denoRun("worker/serve/serve_main.ts", ["--random-init", "tiny", "--port", "0"], {
 *   stdout: "piped",
 * }).spawn();
 * const address = await listeningAddress(server.stdout);
 * ```
 */

const ROOT = new URL("../", import.meta.url);

/**
 * The absolute path of `relative` in this checkout (`worker/serve/serve_main.ts`), so a spawn works
 * from any working directory.
 */
export function projectPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/**
 * The Deno flags the inference server runs with (as deno.json's `serve` task does): without
 * `--unstable-no-legacy-abort`, Deno 2.9.3 aborts every HTTP request's signal after a successful
 * response and warns about it each time.
 */
export const SERVE_FLAGS: readonly string[] = ["--unstable-no-legacy-abort"];

/** Options for {@linkcode denoRun}: the command's, plus flags for Deno itself. */
export interface DenoRunOptions extends Omit<Deno.CommandOptions, "args"> {
  /** Flags for `deno run`, before the script (e.g. {@linkcode SERVE_FLAGS}). */
  denoFlags?: readonly string[];
  /**
   * A command that runs Deno in another context, its argv before Deno's (`ip netns exec NS` for a
   * network namespace, `unshare -rm` for a mount namespace).
   */
  prefix?: readonly string[];
}

/**
 * `deno run --allow-all SCRIPT ARGS…` with this Deno (after `prefix`, when given). `script` is a
 * path relative to the project root, an absolute path, or a URL.
 */
export function denoRun(
  script: string | URL,
  args: readonly string[],
  { denoFlags = [], prefix = [], ...options }: DenoRunOptions = {},
): Deno.Command {
  const path = script instanceof URL
    ? script.href
    : script.startsWith("/")
    ? script
    : projectPath(script);
  const [command, ...before] = [...prefix, Deno.execPath()];
  return new Deno.Command(command, {
    ...options,
    args: [...before, "run", "--allow-all", ...denoFlags, path, ...args],
  });
}

/** What a finished child printed, decoded. */
export interface DenoOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `script` to the end with piped output (see {@linkcode denoRun}). */
export async function denoOutput(
  script: string | URL,
  args: readonly string[],
  options: Omit<DenoRunOptions, "stdout" | "stderr"> = {},
): Promise<DenoOutput> {
  const out = await denoRun(script, args, { ...options, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Reads a server's stdout until its `listening on ADDRESS` line and returns the address (see
 * {@linkcode readUntil}).
 */
export async function listeningAddress(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const seen = await readUntil(stdout, /^listening on (\S+)\n/m);
  return /^listening on (\S+)\n/m.exec(seen)![1];
}

/**
 * Reads a child's stdout until `pattern` matches what it printed, and returns all of that; the
 * rest of the stream is drained in the background so the child never blocks on a full pipe.
 * Throws if the stream ends first, with what it printed.
 */
export async function readUntil(
  stdout: ReadableStream<Uint8Array>,
  pattern: RegExp,
): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!pattern.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The process exited before printing ${pattern}; it printed: ${seen}`);
    seen += value;
  }
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return seen;
}

/** The lines of `stream` (without their newline; a last line without one is still a line). */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, end).replace(/\r$/, "");
      pending = pending.slice(end + 1);
    }
  }
  if (pending) yield pending;
}
