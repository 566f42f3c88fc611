/**
 * A mixed ring in real processes on 127.0.0.1: a coordinator and two workers, one on webgpu (on
 * lavapipe in CI) and one on the CPU. Both ranks apply the same TypeScript AdamW to the same
 * all-reduced gradients, so their weights must be identical, bit for bit, after every step; with an
 * fp16 wire too, where the CPU's gradients leave its graph as fp16 and webgpu's are rounded on the
 * host.
 */
import assert from "node:assert/strict";
import { denoOutput, denoRun, listeningAddress } from "../../model/subprocess.ts";
import { readSummary } from "../_run_files.ts";
import { requireWebGpu } from "./_webgpu.ts";

function spawn(script: string, args: string[], env: Record<string, string>) {
  return denoRun(script, args, { env, stdout: "piped", stderr: "piped" }).spawn();
}

/** The exit code and output of `child`, killing it (and failing) after `ms`. */
async function finish(child: Deno.ChildProcess, ms = 180_000) {
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

for (const wire of ["fp32", "fp16"] as const) {
  Deno.test(`a ring of one webgpu and one cpu worker, ${wire} on the wire, ends every step with identical weights on both ranks`, async () => {
    await requireWebGpu();
    const dir = await Deno.makeTempDir();
    try {
      const ingest = await denoOutput("ingest/main.ts", [
        "--out",
        `${dir}/data`,
        "--vocab-size",
        "300",
        "--val-fraction",
        "0",
        "/usr/share/common-licenses/GPL-3",
      ]);
      assert.equal(ingest.code, 0, ingest.stderr);
      await Deno.writeTextFile(
        `${dir}/job.json`,
        JSON.stringify({
          model: { layers: 2, heads: 2, width: 32, contextLength: 16 },
          train: { microBatch: 2, gradAccum: 2, warmupSteps: 1, evalEvery: 0, checkpointEvery: 0 },
          hashEvery: 1,
          heartbeatMs: 250,
          deadAfterMs: 20_000,
          wire,
        }),
      );
      const token = "mixed-ring";
      const run = ["--data", `${dir}/data`, "--out", `${dir}/run`, "--config", `${dir}/job.json`];
      const coord = spawn(
        "coordinator/main.ts",
        [...run, "--steps", "3", "--min-workers", "2", "--port", "0"],
        { DENOFORMER_TOKEN: token },
      );
      const guard = setTimeout(() => coord.kill("SIGKILL"), 240_000); // a hang guard only
      const address = await listeningAddress(coord.stdout);
      const workers = ["webgpu", "cpu"].map((device) =>
        spawn(
          "worker/training/worker_main.ts",
          ["--coordinator", address, "--device", device, "--threads", "1", "--name", device]
            .concat(["--cache", `${dir}/cache-${device}`]),
          { DENOFORMER_TOKEN: token },
        )
      );
      let logs = "";
      for (const w of workers) {
        const r = await finish(w);
        assert.equal(r.code, 0, r.text.slice(-2000));
        logs += r.text;
      }
      // An fp16 wire scales the loss as fp16 compute does; rank 0 logs the scale of every step.
      const scale = wire === "fp16" ? 65536 : 1;
      assert.match(logs, new RegExp(`"loss_scale":${scale}[,}]`), "the wire's loss scale");
      const errors = await new Response(coord.stderr).text();
      clearTimeout(guard);
      assert.equal((await coord.status).code, 0, errors.slice(-2000));

      const summary = await readSummary(`${dir}/run`) as Awaited<ReturnType<typeof readSummary>> & {
        workers: Record<string, { device: string }>;
      };
      assert.deepEqual(Object.values(summary.workers).map((w) => w.device).sort(), [
        "cpu",
        "webgpu",
      ]);
      assert.deepEqual(
        summary.weight_hash_checks,
        [1, 2, 3].map((step) => ({
          step,
          workers: 2,
          identical: true,
        })),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
