/** Training workers started on the coordinator's own machine (`--local-workers N`). */
import { denoRun } from "../model/subprocess.ts";

/**
 * Starts `n` workers that join the coordinator at `address`, each with `threads` onnxruntime
 * threads (default: the cores shared out) and its log in RUN/logs/worker-I.log. The token travels
 * in the environment, where `ps` does not show it.
 */
export async function spawnLocalWorkers(
  n: number,
  address: string,
  token: string,
  run: string,
  threads?: number,
): Promise<Deno.ChildProcess[]> {
  if (n === 0) return [];
  await Deno.mkdir(`${run}/logs`, { recursive: true });
  const perWorker = threads ?? Math.max(1, Math.floor(navigator.hardwareConcurrency / n));
  const children: Deno.ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const logFile = await Deno.open(`${run}/logs/worker-${i}.log`, {
      write: true,
      create: true,
      truncate: true,
    });
    const args = ["--coordinator", address, "--threads", String(perWorker), "--name", `local-${i}`];
    const child = denoRun("worker/training/worker_main.ts", args, {
      env: { DENOFORMER_TOKEN: token },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child.stderr.pipeTo(logFile.writable).catch(() => {});
    children.push(child);
  }
  return children;
}
