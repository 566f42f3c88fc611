/**
 * The README's first command on a smaller budget, through real processes and real gRPC: the
 * coordinator without --data ingests samples/ (text, code, a PDF, a scanned image), trains with 2
 * local workers, writes the merged checkpoint, serves it, streams a sample generation and prints
 * commands that work when pasted; Ctrl-C stops every process it started.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { readManifest } from "../../model/data/mod.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { denoOutput, denoRun, readUntil } from "../../model/subprocess.ts";

Deno.test("deno task coordinator with no data runs ingest → 2 workers → checkpoint → server → generation", async () => {
  const dir = await Deno.makeTempDir();
  const run = `${dir}/run`;
  const coordinator = denoRun(
    "coordinator/main.ts",
    ["--out", run, "--steps", "12", "--port", "0"],
    {
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    },
  ).spawn();
  try {
    // Throws with what it printed if the coordinator ends before serving.
    const out = await readUntil(coordinator.stdout, /Ctrl-C stops the server/);

    // Every kind of sample document made it into the shards.
    const manifest = await readManifest(`${run}/data`);
    const kinds = new Set<string>(
      manifest.files.filter((f) => f.status === "ok").map((f) => f.kind),
    );
    for (const kind of ["text", "code", "pdf", "image"]) {
      assert.ok(kinds.has(kind), `no ${kind} ingested`);
    }

    const ckpt = await loadCheckpoint(run);
    assert.equal(ckpt.state.step, 12);
    const aborted = (await readStepRecords(run)).filter((r) => !r.committed);
    assert.deepEqual(aborted, [], "a healthy run aborts no step");
    const summary = await readSummary(run);
    assert.ok(summary.weight_hash_checks.every((c) => c.identical));
    assert.match(out, /sample generation for "The model":/);

    // The summary's generate command works when pasted.
    const pasted = out.split("\n").map((l) => l.trim()).find((l) =>
      l.startsWith("deno task generate") && !l.includes("--json")
    )!;
    const args = pasted.replace(/^deno task generate /, "").match(/"[^"]*"|\S+/g)!.map((a) =>
      a.replace(/^"|"$/g, "")
    );
    const client = await denoOutput("worker/serve/generate_main.ts", [...args, "--seed", "3"]);
    assert.equal(client.code, 0, client.stderr);
    assert.ok(
      client.stdout.length > 0,
      "the pasted command streamed text",
    );
  } finally {
    coordinator.kill("SIGINT");
    const status = await coordinator.status;
    assert.equal(status.code, 0, "Ctrl-C ends the coordinator cleanly");
    await Deno.remove(dir, { recursive: true });
  }
});
