/**
 * Distributed training with real processes and real gRPC on 127.0.0.1: the coordinator, worker
 * processes, the ring all-reduce between them, failures and bad clients.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { JobConfig, jobModel, loadTrainingData, Trainer } from "../../model/train/mod.ts";
import { coordinatorService, tokenMetadata } from "../../proto/mod.ts";
import { sharedMemoryAvailable } from "../../worker/collective/mod.ts";
import { CoordinatorClient } from "../../worker/training/mod.ts";
import { makeCertificates } from "../_certificates.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";
import { licenseShards } from "../_shards.ts";

const root = new URL("../../", import.meta.url).pathname;
const job = {
  model: { layers: 2, heads: 2, width: 64, contextLength: 32 },
  train: { microBatch: 2, gradAccum: 2, warmupSteps: 2, evalEvery: 0, checkpointEvery: 0 },
  hashEvery: 1,
  heartbeatMs: 250,
  // Generous: on a loaded 2-core CI machine a busy worker can miss a few beats.
  deadAfterMs: 5000,
};

/** Shards of real English text made by the real ingest CLI, shared by the tests of this file. */
const data = await licenseShards(await Deno.makeTempDir());

interface Proc {
  child: Deno.ChildProcess;
  stdout: Promise<string>;
  address: Promise<string>;
}

function spawn(script: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}${script}`, ...args],
    env,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let found: (a: string) => void = () => {};
  const address = new Promise<string>((r) => (found = r));
  const stdout = (async () => {
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const m = /listening on (\S+)/.exec(text);
      if (m) found(m[1]);
    }
    return text;
  })();
  return { child, stdout, address };
}

/** The exit code of `p`, killing it (and failing) if it has not ended within `ms`. */
async function exitCode(p: Proc, ms = 120_000): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      p.child.kill("SIGKILL");
      resolve(-1);
    }, ms);
  });
  const code = await Promise.race([p.child.status.then((s) => s.code), timeout]);
  clearTimeout(timer);
  assert.notEqual(code, -1, `a process did not end within ${ms} ms`);
  return code;
}

/** Waits (up to a minute) until RUN/data_ranges.jsonl satisfies `done`. */
async function waitForRanges(run: string, done: (lines: string) => boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (done(await Deno.readTextFile(`${run}/data_ranges.jsonl`).catch(() => ""))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${run}/data_ranges.jsonl never reached the awaited state`);
}

/** A coordinator on this file's shards, writing to `run` with the job config at `config`. */
function coordinator(run: string, config: string, args: string[]): Proc {
  return spawn("coordinator/main.ts", ["--data", data, "--out", run, "--config", config, ...args]);
}

/** A coordinator that trains `steps` steps with 2 local workers of one thread each. */
function localJob(run: string, config: string, steps: number): Proc {
  const args = ["--steps", String(steps), "--local-workers", "2", "--threads", "1", "--port", "0"];
  return coordinator(run, config, args);
}

/** A one-thread worker named `name` joining `address`, with its own shard cache. */
function worker(
  run: string,
  address: string,
  name: string,
  token: string,
  args: string[] = [],
): Proc {
  return spawn(
    "worker/training/worker_main.ts",
    [
      "--coordinator",
      address,
      "--threads",
      "1",
      "--name",
      name,
      "--cache",
      `${run}/cache-${name}`,
      ...args,
    ],
    { DENOFORMER_TOKEN: token },
  );
}

async function withRun(
  fn: (run: string, config: string) => Promise<void>,
  over: Record<string, unknown> = {},
) {
  const dir = await Deno.makeTempDir();
  const config = `${dir}/job.json`;
  await Deno.writeTextFile(config, JSON.stringify({ ...job, ...over }));
  try {
    await fn(`${dir}/run`, config);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("2 workers × k micro-batches end with the weights of one trainer with 2·k, identical on both ranks", async () => {
  await withRun(async (run, config) => {
    const coord = localJob(run, config, 1);
    assert.equal(await exitCode(coord), 0);
    if (sharedMemoryAvailable()) {
      // Both on this host: gradients go in place, through shared memory, not through the socket.
      for (const i of [0, 1]) {
        const log = await Deno.readTextFile(`${run}/logs/worker-${i}.log`);
        assert.match(log, /"msg":"data plane".*"payloads":"shm"/, `worker ${i}`);
      }
    }
    const summary = await readSummary(run);
    assert.deepEqual(summary.weight_hash_checks, [{ step: 1, workers: 2, identical: true }]);

    const cfg = JobConfig.parse(job);
    const tokens = await loadTrainingData(data);
    const single = await Trainer.create({
      model: jobModel(cfg, tokens.vocabSize),
      train: { ...cfg.train, steps: 1, gradAccum: 2 * cfg.train.gradAccum },
      trainTokens: tokens.train,
      tokenizerJson: tokens.tokenizerJson,
      threads: 1,
    });
    const before = single.params.slice();
    await single.trainStep();
    const merged = await loadCheckpoint(run);
    const g = single.lastGradient;
    let worst = 0, at = 0;
    for (
      const [i, spec] of single.checkpointContents().tensors.entries() as Iterable<
        [string, { data: Float32Array }]
      >
    ) {
      const dist = merged.tensors.get(i)!.data;
      for (let j = 0; j < dist.length; j++, at++) {
        // As in the accumulation test: Adam's first step amplifies rounding where |g| is near ε.
        if (Math.abs(g[at]) <= 1e-5) continue;
        const update = Math.abs(spec.data[j] - before[at]);
        worst = Math.max(
          worst,
          Math.abs(dist[j] - spec.data[j]) / Math.max(update, Math.abs(spec.data[j])),
        );
      }
    }
    console.log(
      `distributed vs single-process weights: max relative difference ${worst.toExponential(2)}`,
    );
    assert.ok(worst < 1e-5, `weights differ by ${worst}`);
  });
});

Deno.test("a worker busy in a micro-batch longer than the lease deadline keeps its lease", async () => {
  // onnxruntime-node computes on the calling thread; each micro-batch here takes over a second on
  // one thread, well over the deadline. The lease thread must keep both workers alive (and a
  // step over a second long sets the next step's chunk timeout from its duration).
  await withRun(async (run, config) => {
    const coord = localJob(run, config, 3);
    assert.equal(await exitCode(coord, 60_000), 0, "three steps finish, none aborted");
    const records = await readStepRecords(run);
    assert.deepEqual(
      records.filter((r) => !r.committed).map((r) => r.reason),
      [],
      "no step was aborted",
    );
    assert.deepEqual(records.map((r) => r.world_size), [2, 2, 2]);
  }, {
    model: { layers: 2, heads: 4, width: 256, contextLength: 128 },
    train: { microBatch: 48, gradAccum: 1, warmupSteps: 1, evalEvery: 0, checkpointEvery: 0 },
    heartbeatMs: 100,
    deadAfterMs: 600,
  });
});

Deno.test("killing one of 3 workers mid-run: the job finishes and no sample is lost or repeated outside the replayed step", async () => {
  await withRun(async (run, config) => {
    const token = "test-token";
    const coord = coordinator(run, config, [
      "--steps",
      "12",
      "--min-workers",
      "2",
      "--token",
      token,
      "--port",
      "0",
    ]);
    const address = await coord.address;
    const workers = [0, 1, 2].map((i) => worker(run, address, `w${i}`, token));
    // Wait until the three of them have trained a few steps together, then kill one.
    await waitForRanges(
      run,
      (lines) => lines.split("\n").filter((l) => l.includes('"world_size":3')).length >= 3,
    );
    workers[1].child.kill("SIGKILL");
    const status = { code: await exitCode(coord) };
    assert.equal(status.code, 0, "the coordinator finished the job");
    for (const w of [workers[0], workers[2]]) assert.equal(await exitCode(w), 0);
    await workers[1].child.status;

    const records = await readStepRecords(run);
    const committed = records.filter((r) => r.committed);
    assert.deepEqual(
      committed.map((r) => r.step),
      [...Array(12).keys()].map((i) => i + 1),
      "every step committed once",
    );
    assert.ok(
      committed.some((r) => r.world_size === 3) && committed.at(-1)!.world_size === 2,
      "the ring shrank to 2",
    );
    const spans = committed.flatMap((r) => r.ranges).sort((a, b) => a.start - b.start);
    spans.forEach((s, i) =>
      assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end, "committed ranges tile the samples")
    );
    const aborted = records.filter((r) => !r.committed);
    console.log(
      `${aborted.length} aborted step(s) replayed; committed samples 0..${
        spans.at(-1)!.end
      } with no gap or overlap`,
    );
    for (const a of aborted) {
      const replay = committed.find((r) => r.step === a.step);
      assert.ok(
        replay && replay.ranges[0].start === a.ranges[0].start,
        "an aborted step is replayed from its first sample",
      );
    }
    const metrics = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(
      metrics.filter((m) => "loss" in m).map((m) => m.step),
      committed.map((r) => r.step),
      "the loss curve continues",
    );
  }, { train: { ...job.train, checkpointEvery: 4 } });
});

Deno.test("a wrong token is refused and garbage to every RPC gets a status while the server keeps serving", async () => {
  await withRun(async (run, config) => {
    const coord = coordinator(run, config, [
      "--token",
      "right",
      "--port",
      "0",
    ]);
    const address = await coord.address;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    // A connection that was never established is tried again: the request never reached the
    // server (Deno's HTTP/2 server now and then resets a new connection after a garbage stream).
    const call = async (method: string, bytes: Uint8Array, token: string) => {
      for (let attempt = 1;; attempt++) {
        const got = await callOnce(method, bytes, token);
        if (
          got.code !== grpc.status.UNAVAILABLE ||
          !got.details.startsWith("No connection established") || attempt === 3
        ) {
          return got.code;
        }
      }
    };
    const callOnce = (method: string, bytes: Uint8Array, token: string) =>
      new Promise<{ code: grpc.status; details: string }>((resolve) => {
        const def = coordinatorService[method];
        const done = (err: grpc.ServiceError | null) =>
          resolve(
            err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: "" },
          );
        const raw = (b: Uint8Array) => Buffer.from(b);
        const id = (b: Buffer) => b;
        const md = tokenMetadata(token);
        const opts = { deadline: Date.now() + 5000 };
        if (def.requestStream) {
          const s = client.makeClientStreamRequest(def.path, raw, id, md, opts, done);
          s.write(bytes);
          s.end();
        } else if (def.responseStream) {
          const s = client.makeServerStreamRequest(def.path, raw, id, bytes, md, opts);
          s.on("data", () => {});
          s.on("error", (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
          s.on("end", () => resolve({ code: grpc.status.OK, details: "" }));
        } else {
          client.makeUnaryRequest(def.path, raw, id, bytes, md, opts, done);
        }
      });
    const join = coordinatorService.Join.requestSerialize({
      name: "x",
      peer_address: "127.0.0.1:1",
      device: "cpu",
    });
    assert.equal(await call("Join", join, "wrong"), grpc.status.UNAUTHENTICATED);
    const garbage = Uint8Array.from([0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]);
    for (const method of Object.keys(coordinatorService)) {
      const code = await call(method, garbage, "right");
      assert.notEqual(code, grpc.status.OK, `${method} accepted garbage`);
      assert.notEqual(code, grpc.status.UNAVAILABLE, `${method}: the server went away`);
    }
    assert.equal(
      await call("Join", join, "right"),
      grpc.status.OK,
      "still serving after the garbage",
    );
    client.close();
    coord.child.kill("SIGKILL");
    await coord.child.status;
    await coord.stdout;
  });
});

globalThis.addEventListener("unload", () => Deno.removeSync(data, { recursive: true }));

Deno.test("a restarted coordinator resumes from its checkpoint and the workers reconnect", async () => {
  await withRun(async (run, config) => {
    const token = "restart-token";
    const args = [
      "--steps",
      "8",
      "--token",
      token,
      "--min-workers",
      "2",
    ];
    const first = coordinator(run, config, [...args, "--port", "0"]);
    const address = await first.address;
    const workers = [0, 1].map((i) => worker(run, address, `r${i}`, token));
    // Kill the coordinator once a checkpoint exists and training has gone past it.
    await waitForRanges(run, (lines) => lines.includes('"step":5,'));
    first.child.kill("SIGKILL");
    await first.child.status;
    await first.stdout;
    const port = address.split(":")[1];
    const second = coordinator(run, config, [...args, "--port", port, "--resume"]);
    assert.equal(await exitCode(second), 0);
    const summary = await readSummary(run);
    assert.equal(summary.step, 8);
    for (const w of workers) {
      assert.equal(await exitCode(w), 0, "workers rejoined and finished");
    }
    const records = await readStepRecords(run);
    const resumedAt = records.findIndex((r, i) => i > 0 && r.step <= records[i - 1].step);
    assert.ok(resumedAt > 0, "the second coordinator replayed from its checkpoint");
    assert.equal(records[resumedAt].step, 5, "training resumed after the step-4 checkpoint");
    assert.equal(
      records[resumedAt].ranges[0].start,
      records.find((r) => r.step === 5)!.ranges[0].start,
      "from the same sample",
    );
    const metrics = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(metrics.filter((m) => "loss" in m).map((m) => m.step), [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]);
  }, { train: { ...job.train, checkpointEvery: 4 } });
});

Deno.test("a worker that joins mid-run enters at a step boundary with the others' state", async () => {
  await withRun(async (run, config) => {
    const token = "join-token";
    const coord = coordinator(run, config, [
      "--steps",
      "400",
      "--min-workers",
      "2",
      "--token",
      token,
      "--port",
      "0",
    ]);
    const address = await coord.address;
    const joiner = (i: number) => worker(run, address, `j${i}`, token);
    const workers = [joiner(0), joiner(1)];
    await waitForRanges(run, (lines) => lines.includes('"step":3,'));
    workers.push(joiner(2));
    // Once the newcomer has trained, Ctrl-C ends the job after the step in flight.
    await waitForRanges(
      run,
      (lines) => lines.split("\n").filter((l) => l.includes('"world_size":3')).length >= 2,
    );
    coord.child.kill("SIGINT");
    assert.equal(await exitCode(coord), 0);
    for (const w of workers) assert.equal(await exitCode(w), 0);
    const summary = await readSummary(run);
    const records = await readStepRecords(run);
    const worlds = records.filter((r) => r.committed).map((r) => r.world_size);
    assert.equal(worlds[0], 2);
    assert.equal(worlds.at(-1), 3, "the newcomer trained in the last steps");
    const checks = summary.weight_hash_checks as {
      step: number;
      workers: number;
      identical: boolean;
    }[];
    assert.ok(checks.some((c) => c.workers === 3), "the newcomer's weights were compared");
    assert.ok(
      checks.every((c) => c.identical),
      "every rank, the newcomer too, holds the same weights",
    );
    const spans = records.filter((r) => r.committed).flatMap((r) => r.ranges).sort((a, b) =>
      a.start - b.start
    );
    spans.forEach((s, i) => assert.equal(s.start, i === 0 ? 0 : spans[i - 1].end));
  });
});

Deno.test("with mutual TLS the job trains end to end, and a worker without a certificate cannot join", async () => {
  await withRun(async (run, config) => {
    const dir = run.replace(/\/run$/, "");
    await makeCertificates(dir);
    const token = "tls-token";
    const coord = coordinator(run, config, [
      "--steps",
      "3",
      "--min-workers",
      "2",
      "--token",
      token,
      "--port",
      "0",
      "--tls-cert",
      `${dir}/server.pem`,
      "--tls-key",
      `${dir}/server.key`,
      "--tls-ca",
      `${dir}/ca.pem`,
    ]);
    const address = await coord.address;
    const tls = ["--tls-ca", `${dir}/ca.pem`, "--tls-server-name", "localhost"];
    // Without a client certificate, or without TLS at all, the handshake fails: no admission.
    for (const tlsFiles of [{ caPath: `${dir}/ca.pem`, serverName: "localhost" }, undefined]) {
      const stranger = new CoordinatorClient(address, { token, tls: tlsFiles });
      await assert.rejects(
        stranger.call("Join", {
          name: "stranger",
          peer_address: "127.0.0.1:1",
          tcp_address: "",
          device: "cpu",
        }, 3000),
      );
      stranger.close();
    }
    const workers = [0, 1].map((i) =>
      worker(run, address, `t${i}`, token, [
        "--tls-cert",
        `${dir}/client.pem`,
        "--tls-key",
        `${dir}/client.key`,
        ...tls,
      ])
    );
    assert.equal(await exitCode(coord), 0);
    for (const w of workers) assert.equal(await exitCode(w), 0);
    const summary = await readSummary(run);
    assert.equal(summary.step, 3);
    assert.deepEqual(summary.weight_hash_checks.at(-1), { step: 3, workers: 2, identical: true });
  }, { transport: "grpc" });
});
