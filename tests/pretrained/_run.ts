/** Runs one of the repository's entry points in its own process, as a user would. */
const root = new URL("../../", import.meta.url).pathname;

/** `deno run -A <main> …args`: the exit code and what it printed. */
export async function runMain(
  main: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}${main}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}
