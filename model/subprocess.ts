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
 * `deno run --allow-all SCRIPT ARGS…` with this Deno. `script` is a path relative to the project
 * root, an absolute path, or a URL.
 */
export function denoRun(
  script: string | URL,
  args: readonly string[],
  options: Omit<Deno.CommandOptions, "args"> = {},
): Deno.Command {
  const path = script instanceof URL
    ? script.href
    : script.startsWith("/")
    ? script
    : projectPath(script);
  return new Deno.Command(Deno.execPath(), {
    ...options,
    args: ["run", "--allow-all", path, ...args],
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
  options: Omit<Deno.CommandOptions, "args" | "stdout" | "stderr"> = {},
): Promise<DenoOutput> {
  const out = await denoRun(script, args, { ...options, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Reads a server's stdout until its `listening on ADDRESS` line and returns the address; the rest
 * of the stream is drained in the background so the child never blocks on a full pipe. Throws if
 * the stream ends first, with what it printed.
 */
export async function listeningAddress(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The process exited before it listened; it printed: ${seen}`);
    seen += value;
    const match = /listening on (\S+)\n/.exec(seen);
    if (match) {
      (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
      return match[1];
    }
  }
}
