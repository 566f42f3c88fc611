/**
 * The coordinator's metrics: the in-process source (snapshot, events) and the Prometheus series,
 * fed by hand with a clock; then a real 2-worker run whose `/metrics` series move as it trains.
 */
import assert from "node:assert/strict";
import type { StepRecord } from "../../coordinator/job.ts";
import { TrainingMetrics } from "../../coordinator/metrics.ts";
import { Registry } from "../../model/metrics/mod.ts";
import { parsePrometheus, sampleValue } from "../_prometheus.ts";
import { denoRun, readUntil } from "../../model/subprocess.ts";
import { ingestLicences, writeTinyJob } from "../_tiny_job.ts";

/** Step `step` on the ring `w0, w1`, 4 samples each (samples 8·(step-1) onwards). */
const record = (step: number, committed: boolean, loss?: number): StepRecord => ({
  step,
  ring_version: step,
  world_size: 2,
  committed,
  ranges: ["w0", "w1"].map((worker, r) => ({
    worker,
    start: 8 * (step - 1) + 4 * r,
    end: 8 * (step - 1) + 4 * (r + 1),
  })),
  loss,
});

Deno.test("TrainingMetrics keeps the job's numbers in process, tells subscribers, and exports them", async () => {
  let now = 0;
  const metrics = new TrainingMetrics({
    tokensPerWorkerStep: 100,
    registry: new Registry(),
    now: () => now,
  });
  const events: string[] = [];
  const states: string[] = [];
  const stop = metrics.subscribe((e) => {
    events.push(e.kind);
    const w = e.snapshot.workers.w1;
    if (w && w.state !== states.at(-1)) states.push(w.state);
  });
  metrics.workerJoined("w0", "cpu");
  metrics.workerJoined("w1", "cuda:1");
  metrics.workers(2);
  now = 500;
  metrics.stepEnded(record(1, true, 5.5));
  metrics.stepEnded(record(2, false));
  now = 1500;
  metrics.stepEnded(record(2, true, 5.0)); // the replay of the aborted step
  const stats = { computeSeconds: 0.25, allReduceSeconds: 0.125, idleSeconds: 0.5 };
  metrics.workerStep("w0", { step: 2, ...stats, allReduceBytes: 4096, lr: 1e-3, lossScale: 1024 });
  metrics.workerStep("w0", { step: 3, ...stats, allReduceBytes: 4096, lr: 9e-4, lossScale: 512 });
  metrics.valLoss(2, 5.25);
  metrics.checkpointSaved(2, 0.75);
  metrics.workerLost("w1");
  metrics.workerJoined("w2", "cpu");
  stop();
  metrics.workers(1); // not heard: unsubscribed

  const s = metrics.snapshot();
  assert.deepEqual(
    [s.step, s.loss, s.valLoss, s.lr, s.lossScale, s.stepSeconds, s.tokensPerSecond],
    [2, 5.0, 5.25, 9e-4, 512, 1, 200],
  );
  // 16 samples committed at 100 tokens per 4 samples.
  assert.equal(s.tokens, 400);
  assert.deepEqual([s.stepsCommitted, s.stepsAborted, s.stepsReplayed, s.workersAlive], [
    2,
    1,
    1,
    1,
  ]);
  assert.deepEqual(s.workers.w0, {
    device: "cpu",
    state: "training",
    steps: 2,
    computeSeconds: 0.5,
    allReduceSeconds: 0.25,
    allReduceBytes: 8192,
    idleSeconds: 1,
    last: { step: 3, ...stats, allReduceBytes: 4096, lr: 9e-4, lossScale: 512 },
  });
  assert.equal(s.workers.w1.device, "cuda:1");
  assert.deepEqual(states, ["joining", "training", "dead", "replaced"]);
  assert.equal(s.workers.w1.replacedBy, "w2");
  assert.equal(s.workers.w2.state, "joining");
  assert.deepEqual(events, [
    "joined",
    "joined",
    "workers",
    "step",
    "step",
    "step",
    "worker",
    "schedule",
    "worker",
    "schedule",
    "valLoss",
    "checkpoint",
    "lost",
    "joined",
  ]);

  const m = parsePrometheus(await metrics.registry.metrics());
  const v = (name: string, labels = {}, field?: "count" | "sum") =>
    sampleValue(m, `denoformer_${name}`, labels, field);
  assert.deepEqual(
    [v("train_step"), v("train_loss"), v("train_val_loss"), v("train_learning_rate")],
    [2, 5.0, 5.25, 9e-4],
  );
  assert.deepEqual(
    [
      v("train_steps_committed_total"),
      v("train_steps_aborted_total"),
      v("train_steps_replayed_total"),
    ],
    [2, 1, 1],
  );
  assert.deepEqual([v("train_step_seconds", {}, "count"), v("train_step_seconds", {}, "sum")], [
    2,
    1.5,
  ]);
  assert.deepEqual([v("train_checkpoint_seconds", {}, "sum"), v("train_workers_alive")], [0.75, 1]);
  assert.deepEqual(
    [v("train_tokens"), v("train_workers_joined_total"), v("train_workers_lost_total")],
    [400, 3, 1],
  );
  assert.deepEqual(
    [
      "compute_seconds_total",
      "allreduce_seconds_total",
      "allreduce_bytes_total",
      "idle_seconds_total",
    ]
      .map((n) => v(`worker_${n}`, { worker: "w0" })),
    [0.5, 0.25, 8192, 1],
  );
});

Deno.test("during a real 2-worker run the coordinator's series move", async () => {
  const dir = await Deno.makeTempDir({ prefix: "coord_metrics_" });
  try {
    await ingestLicences(`${dir}/data`);
    await writeTinyJob(`${dir}/job.json`, { evalEvery: 3, checkpointEvery: 3 });
    const coordinator = denoRun(
      "coordinator/main.ts",
      ["--data", `${dir}/data`, "--out", `${dir}/run`]
        .concat(["--config", `${dir}/job.json`, "--steps", "12", "--local-workers", "2"])
        .concat(["--threads", "1", "--port", "0", "--metrics-port", "0"]),
      { stdout: "piped", stderr: "null" },
    ).spawn();
    const url =
      /metrics on (\S+)/.exec(await readUntil(coordinator.stdout, /metrics on \S+\n/))![1];
    // Scrape until the process ends; keep every scrape that answered. A hang guard kills it.
    const scrapes: ReturnType<typeof parsePrometheus>[] = [];
    let exited = false;
    const guard = setTimeout(() => coordinator.kill("SIGKILL"), 180_000);
    const status = coordinator.status.then((s) => (exited = true, clearTimeout(guard), s));
    while (!exited) {
      const text = await fetch(url).then((r) => r.text(), () => undefined);
      if (text) scrapes.push(parsePrometheus(text));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await status).code, 0);
    const v = (m: ReturnType<typeof parsePrometheus>, name: string, labels = {}, f?: "count") =>
      sampleValue(m, `denoformer_${name}`, labels, f);
    const first = scrapes.find((m) => v(m, "train_step") >= 1)!, last = scrapes.at(-1)!;
    assert.ok(first && v(last, "train_step") > v(first, "train_step"), "the step moved");
    assert.ok(v(last, "train_steps_committed_total") > v(first, "train_steps_committed_total"));
    assert.equal(v(last, "train_workers_alive"), 2);
    for (
      const name of [
        "train_loss",
        "train_val_loss",
        "train_learning_rate",
        "train_tokens_per_second",
      ]
    ) {
      assert.ok(v(last, name) > 0, name);
    }
    assert.equal(v(last, "train_loss_scale"), 1); // fp32
    assert.ok(v(last, "train_checkpoint_seconds", {}, "count") >= 1);
    const workers = last.get("denoformer_worker_compute_seconds_total")!.samples.map((s) =>
      s.labels.worker
    );
    assert.equal(workers.length, 2);
    for (const worker of workers) {
      for (const n of ["compute_seconds", "allreduce_seconds", "allreduce_bytes", "idle_seconds"]) {
        assert.ok(v(last, `worker_${n}_total`, { worker }) > 0, `${n} of ${worker}`);
      }
      assert.ok(
        v(last, "worker_compute_seconds_total", { worker }) >
          v(first, "worker_compute_seconds_total", { worker }),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
