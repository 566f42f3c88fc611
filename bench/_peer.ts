/**
 * Runs a PyTorch peer script from `../shared/peers/` in the same session as our benchmark, with the
 * tuned environment its README prescribes, and returns its JSON (or why it could not run).
 */
const defaultPeers = new URL("../../shared/peers/", import.meta.url).pathname;

/** The peer's JSON, or `{ unavailable: reason }`. */
export async function runPeer(
  script: string,
  args: string[],
  peersDir = Deno.env.get("DENOFORMER_PEERS") ?? defaultPeers,
): Promise<Record<string, unknown>> {
  try {
    await Deno.stat(`${peersDir}/${script}`);
  } catch {
    return { unavailable: `${peersDir}/${script} not found` };
  }
  const env = { ...Deno.env.toObject(), OMP_WAIT_POLICY: "PASSIVE" };
  delete (env as Record<string, string | undefined>).OPENBLAS_CORETYPE;
  delete (env as Record<string, string | undefined>).OPENBLAS_L2_SIZE;
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [`${peersDir}/${script}`, ...args],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (out.code !== 0) {
      return {
        unavailable: `exit ${out.code}: ${
          new TextDecoder().decode(out.stderr).trim().split("\n").pop()
        }`,
      };
    }
    return JSON.parse(text.split("\n").pop()!);
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
}
