/**
 * Runs a PyTorch peer script from `../shared/peers/` in the same session as our benchmark, with the
 * tuned environment its README prescribes, and returns its JSON (or why it could not run).
 */
import { median } from "./_stats.ts";

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
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [`${peersDir}/${script}`, ...args],
      env: tunedEnv(),
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

/** The tuned environment of the peers' README: no OpenBLAS core override, passive OpenMP waits. */
function tunedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    OMP_WAIT_POLICY: "PASSIVE",
    ...extra,
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/**
 * The peer's gloo all-reduce (`torch_allreduce_bench.py allreduce`), one process a rank, rank r
 * started behind `prefixes[r]` (e.g. `ip netns exec NS`, to run in an emulated host) and meeting
 * at `master` ("host:port", on rank 0's host), through `_gloo_rank.py`, which runs the peer's own
 * rank function. Returns what the peer script would print for these times, or why it could not run.
 */
export async function runPeerRanks(
  prefixes: string[][],
  master: string,
  args: string[],
  peersDir = Deno.env.get("DENOFORMER_PEERS") ?? defaultPeers,
): Promise<Record<string, unknown>> {
  const flags = Object.fromEntries(
    args.slice(1).flatMap((a, i, all) => (i % 2 === 0 ? [[a.slice(2), all[i + 1]]] : [])),
  );
  const shim = new URL("./_gloo_rank.py", import.meta.url).pathname;
  const ranks = prefixes.map((prefix, rank) => {
    const [command, ...rest] = [...prefix, "/usr/bin/python3"];
    return new Deno.Command(command, {
      args: [
        ...rest,
        shim,
        "--peers",
        peersDir,
        "--rank",
        String(rank),
        "--master",
        master,
        ...args.slice(1),
      ],
      env: tunedEnv({ GLOO_SOCKET_IFNAME: "eth0" }),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  });
  // A rank that never meets the others would hang the benchmark: all go after 10 minutes.
  const timer = setTimeout(() => ranks.forEach((r) => r.kill("SIGKILL")), 600_000);
  try {
    const outs = await Promise.all(ranks.map((r) => r.output()));
    const failed = outs.find((o) => o.code !== 0);
    if (failed) {
      const why = new TextDecoder().decode(failed.stderr).trim().split("\n").pop();
      return { unavailable: `exit ${failed.code}: ${why}` };
    }
    const lines = outs.map((o) => new TextDecoder().decode(o.stdout).trim().split("\n"));
    const result = lastJsonWith(lines[0], "times");
    // Each rank's CPU time a call; per call the mean over ranks, as ours.
    const cpu = lines.map((l) => lastJsonWith(l, "cpu_ms_each").cpu_ms_each as number[]);
    const cpuPerCall = cpu[0].map((_, call) =>
      cpu.reduce((sum, c) => sum + c[call], 0) / cpu.length
    );
    const times = result.times as number[];
    const world = Number(flags.world), bytes = Number(flags.elements) * 4;
    const seconds = median(times);
    return {
      seconds_median: seconds,
      alg_bw_GBps: bytes / seconds / 1e9,
      bus_bw_GBps: (bytes / seconds / 1e9) * 2 * (world - 1) / world,
      sum_correct: result.correct,
      seconds_each: times,
      cpu_ms_rank: median(cpuPerCall),
    };
  } catch (err) {
    return { unavailable: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The last of `lines` that is a JSON object with `key`, whatever else the rank printed around it
 * (the peer's own script prints its result, the wrapper its CPU times).
 */
function lastJsonWith(lines: readonly string[], key: string): Record<string, unknown> {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith("{")) continue;
    try {
      const value = JSON.parse(lines[i]);
      if (key in value) return value;
    } catch {
      // not JSON after all: keep looking
    }
  }
  throw new Error(`a gloo rank printed no JSON line with "${key}"`);
}
