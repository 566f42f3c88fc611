/**
 * A run directory followed into a RunView, from files written here line by line: history rows,
 * steps aborted and replayed, the ring, checkpoints and config; then lines appended, the history
 * rewritten as a resume rewrites it, and the summary that ends the run.
 */
import assert from "node:assert/strict";
import { atomicWriteText } from "../../../model/atomic_write.ts";
import { COLUMNS, followRunDir, RunView } from "../../../coordinator/dashboard/mod.ts";
import type { StepRecord } from "../../../coordinator/job.ts";

const line = (o: unknown) => JSON.stringify(o) + "\n";

const step = (n: number, committed: boolean, version: number): StepRecord => ({
  step: n,
  ring_version: version,
  world_size: 2,
  committed,
  ranges: ["w0-a", "w1-b"].map((worker, r) => ({ worker, start: 4 * n + r, end: 4 * n + r + 1 })),
  ...(committed ? { loss: 5 - n / 10 } : { reason: "worker w1-b stopped answering" }),
});

/** Resolves once `view` satisfies `done` (a hang guard fails the test after 30 s). */
function until(view: RunView, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => (stop(), reject(new Error("The view never changed"))), 30_000);
    const check = () => done() && (stop(), clearTimeout(guard), resolve());
    const stop = view.onChange(check);
    check();
  });
}

Deno.test("a followed run directory fills the view, grows with its files and restarts when they are rewritten", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run_dir_test_" });
  const view = new RunView(dir);
  let follower: ReturnType<typeof followRunDir> | undefined;
  try {
    await Deno.writeTextFile(
      `${dir}/metrics.jsonl`,
      line({ step: 1, loss: 5.1, tokens: 64, world_size: 2, tokens_per_s: 900 }) +
        line({ step: 1, lr: 1e-3, loss_scale: 1 }) +
        "{ a line cut short\n" +
        line({ step: 2, loss: 4.9, tokens: 128, world_size: 2, tokens_per_s: 1000 }) +
        line({ step: 2, val_loss: 5.0 }),
    );
    await Deno.writeTextFile(
      `${dir}/data_ranges.jsonl`,
      [step(1, true, 1), step(2, false, 2), step(2, true, 3)].map(line).join(""),
    );
    await Deno.writeTextFile(`${dir}/job.json`, line({ preset: "tiny", train: { steps: 9 } }));
    await Deno.mkdir(`${dir}/checkpoints/step-000002`, { recursive: true });
    await Deno.writeFile(`${dir}/checkpoints/step-000002/model.safetensors`, new Uint8Array(1000));
    await Deno.writeFile(`${dir}/checkpoints/step-000002/state.json`, new Uint8Array(24));

    follower = followRunDir(view, dir);
    await follower.ready;
    const at = (row: number, column: typeof COLUMNS[number]) =>
      view.rows[row][COLUMNS.indexOf(column)];
    assert.equal(view.rows.length, 4, "the line that is not JSON is skipped");
    assert.deepEqual([at(0, "loss"), at(0, "tokens"), at(0, "tokens_per_s")], [5.1, 64, 900]);
    assert.deepEqual([at(1, "lr"), at(1, "tokens"), at(1, "loss")], [1e-3, 64, null]);
    assert.deepEqual([at(3, "val_loss"), at(3, "tokens")], [5.0, 128], "tokens filled in by step");
    const s = view.state;
    assert.deepEqual([s.step, s.steps, s.tokens, s.status], [2, 9, 128, "training"]);
    assert.deepEqual([s.stepsCommitted, s.stepsAborted, s.stepsReplayed], [2, 1, 1]);
    assert.deepEqual(s.aborts.map((a) => [a.step, a.ringVersion, a.replayed]), [[2, 2, true]]);
    assert.deepEqual(s.ring, { version: 3, step: 2, order: ["w0-a", "w1-b"] });
    assert.deepEqual(s.checkpoints.map((c) => [c.step, c.bytes]), [[2, 1024]]);
    assert.match(s.problems.join(), /metrics\.jsonl: 1 line\(s\) that are not JSON/);

    // A line written in two pieces is read once it is whole.
    const piece = line({ step: 3, loss: 4.8, tokens: 192 });
    await Deno.writeTextFile(`${dir}/metrics.jsonl`, piece.slice(0, 10), { append: true });
    await Deno.writeTextFile(`${dir}/metrics.jsonl`, piece.slice(10), { append: true });
    const generation = view.generation;
    await until(view, () => view.rows.length === 5);
    assert.deepEqual([at(4, "step"), at(4, "loss"), view.generation], [3, 4.8, generation]);

    // A resume from step 1 rewrites the history without the steps after it.
    await atomicWriteText(`${dir}/metrics.jsonl`, line({ step: 1, loss: 5.1, tokens: 64 }));
    await until(view, () => view.generation > generation);
    await until(view, () => view.rows.length === 1);
    assert.equal(view.state.stepsCommitted, 2, "the step records are read again too");

    await Deno.writeTextFile(
      `${dir}/summary.json`,
      line({ step: 2, workers: { "w0-a": { device: "cpu", state: "training", steps: 2 } } }),
    );
    await until(view, () => view.state.status === "finished");
    assert.equal(view.state.workers?.["w0-a"].device, "cpu");
  } finally {
    follower?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
