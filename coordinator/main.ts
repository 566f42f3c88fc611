/**
 * `deno task coordinator`: owns a distributed training job.
 *
 *   deno task coordinator --data DIR --out RUN [--config job.json] [--port P] [--local-workers N]
 *     [--min-workers N] [--steps N] [--token T] [--resume]
 *
 * Admits workers that present the token, forms the ring each step, hands out data ranges, keeps
 * both step barriers, and stores the merged checkpoint every K steps and at the end. Writes
 * RUN/metrics.jsonl, RUN/data_ranges.jsonl, RUN/loss.svg, RUN/checkpoints/ and RUN/summary.json.
 */
import { parseArgs } from "node:util";
import {
  decodeTrainingState,
  encodeTrainingState,
  loadCheckpoint,
  saveCheckpoint,
} from "../model/checkpoint/mod.ts";
import { readManifest } from "../model/data/mod.ts";
import { atomicWriteText } from "../model/atomic_write.ts";
import { InputError } from "../model/errors.ts";
import { jsonLogger } from "../model/log.ts";
import { Progress } from "../model/progress.ts";
import { JobConfig, jobModel, RunLog } from "../model/train/mod.ts";
import { TlsFiles, tlsFlags } from "../proto/mod.ts";
import { intFlag, parseFlags, runCli } from "../model/cli.ts";
import { Job, type StepRecord } from "./job.ts";
import { startCoordinatorServer } from "./server.ts";

const usage = `Usage: deno task coordinator --data DIR --out RUN [options]

  --data DIR             ingest output (manifest.json, shards, tokenizer); without it, the bundled
                         samples/ corpus is ingested into RUN/data, 2 local workers train the tiny
                         preset, and the result is served (see --serve)
  --out RUN              run directory (metrics.jsonl, data_ranges.jsonl, checkpoints/, loss.svg,
                         summary.json; default runs/default without --data)
  --config FILE          job config JSON: { preset, model, train, minWorkers, wire, ... }
  --steps N              optimizer steps (overrides the config)
  --host HOST            interface to listen on (default 127.0.0.1)
  --port P               port (default 50051; 0 picks a free one)
  --local-workers N      start N worker processes on this machine
  --threads N            onnxruntime threads of each local worker (default: cores / N)
  --min-workers N        workers needed before a step starts (default: the config's, and at least
                         --local-workers)
  --token T              job token workers must present (default: a random one, printed)
  --resume               continue from RUN's latest checkpoint
  --serve                after training, start the inference server on the checkpoint, stream a
                         sample generation and keep serving until Ctrl-C (default without --data)
  --prompt TEXT          the sample generation's prompt
  --tls-cert F --tls-key F  serve TLS; --tls-ca F requires client certificates signed by it
`;

/** The job of `deno task coordinator` without arguments: a few minutes of `tiny` on 2 CPU cores. */
const demoJob = {
  preset: "tiny",
  model: { dropout: 0.1 },
  train: {
    microBatch: 8,
    steps: 600,
    lr: 1e-3,
    warmupSteps: 20,
    evalEvery: 25,
    checkpointEvery: 100,
  },
};

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      steps: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "50051" },
      "local-workers": { type: "string" },
      threads: { type: "string" },
      "min-workers": { type: "string" },
      token: { type: "string" },
      resume: { type: "boolean", default: false },
      serve: { type: "boolean" },
      prompt: { type: "string", default: "The model" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  // Without --data: the whole pipeline on the bundled sample corpus.
  const demo = !f.data;
  if (!f.out && !demo) throw new InputError("--out", "is required (the run directory)");
  const run = f.out ?? "runs/default";
  const data = f.data ?? await ingestSamples(`${run}/data`);
  const job = await readJobConfig(f.config, {
    steps: intFlag(f.steps, "--steps"),
    minWorkers: intFlag(f["min-workers"], "--min-workers"),
  }, demo ? demoJob : {});
  const localWorkers = intFlag(f["local-workers"], "--local-workers") ?? (demo ? 2 : 0);
  // N local workers train together from the first step: without this, whichever starts first
  // would train alone until the other joins.
  if (f["min-workers"] === undefined) job.minWorkers = Math.max(job.minWorkers, localWorkers);
  const port = intFlag(f.port, "--port")!;
  const token = f.token ?? crypto.randomUUID();
  const tls = f["tls-cert"]
    ? parseFlags(TlsFiles, {
      certPath: f["tls-cert"],
      keyPath: f["tls-key"],
      caPath: f["tls-ca"],
    }, tlsFlags)
    : undefined;
  const log = jsonLogger({ component: "coordinator" });

  const manifest = await readManifest(data);
  const files = new Map(manifest.shards.map((s) => [s.file, `${data}/${s.file}`]));
  files.set(manifest.tokenizer.file, `${data}/${manifest.tokenizer.file}`);
  const tokenizerJson = await Deno.readTextFile(`${data}/${manifest.tokenizer.file}`);
  const model = jobModel(job, manifest.tokenizer.vocabSize);

  const resumed = f.resume ? await loadCheckpoint(run) : undefined;
  const startStep = resumed?.state.step ?? 0;
  const runLog = await RunLog.open(run, startStep);
  const ranges = `${run}/data_ranges.jsonl`;
  if (!resumed) await Deno.writeTextFile(ranges, "");
  const title =
    `${job.preset} (${model.layers}×${model.width}, vocab ${model.vocabSize}), distributed, ${job.train.precision}`;
  const bar = new Progress({
    label: "train",
    total: job.train.steps,
    unit: "steps",
    initial: startStep,
  });
  const tokensPerWorker = job.train.microBatch * job.train.gradAccum *
    (job.train.sequenceLength ?? model.contextLength);
  let lastCommit = performance.now();

  const state = new Job({
    steps: job.train.steps,
    samplesPerWorker: job.train.microBatch * job.train.gradAccum,
    minWorkers: job.minWorkers,
    deadAfterMs: job.deadAfterMs,
    checkpointEvery: job.train.checkpointEvery,
    hashEvery: job.hashEvery,
    evalEvery: job.train.evalEvery,
    topology: job.topology,
    startStep,
    startDataPosition: (resumed?.state.data_position as number | undefined) ?? 0,
    log,
    onStep: async (r: StepRecord) => {
      await Deno.writeTextFile(ranges, JSON.stringify(r) + "\n", { append: true });
      if (!r.committed) return;
      const now = performance.now();
      const tps = tokensPerWorker * r.world_size / ((now - lastCommit) / 1000);
      lastCommit = now;
      await runLog.write({
        step: r.step,
        loss: r.loss,
        world_size: r.world_size,
        tokens_per_s: tps,
      });
      bar.set(
        r.step,
        `loss ${r.loss!.toFixed(3)}  ${r.world_size} workers  ${Math.round(tps)} tok/s`,
      );
    },
    onValLoss: (step, loss) => runLog.write({ step, val_loss: loss }),
    onState: async (step, bytes) => {
      const s = decodeTrainingState(bytes, "uploaded state");
      const saved = await saveCheckpoint(`${run}/checkpoints`, {
        config: model,
        tokenizerJson,
        ...s,
      }, {
        keepLast: job.train.keepLast,
      });
      await runLog.plot(title);
      log.info("checkpoint saved", { step, path: saved.path });
    },
  });
  if (resumed) state.state = { step: startStep, bytes: encodeTrainingState(resumed) };

  const { port: bound } = await startCoordinatorServer(
    {
      job: state,
      token,
      jobJson: JSON.stringify(job),
      manifestJson: JSON.stringify(manifest),
      files,
      heartbeatMs: job.heartbeatMs,
      transport: job.transport,
      log,
    },
    f.host!,
    port,
    tls,
  );
  const address = `${f.host}:${bound}`;
  console.log(`listening on ${address}`);
  if (!f.token) console.error(`job token: ${token}`);
  const leases = setInterval(() => state.expireLeases(), job.heartbeatMs);

  const children = await spawnLocalWorkers(
    localWorkers,
    address,
    token,
    run,
    intFlag(f.threads, "--threads"),
  );
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) {
      for (const c of children) c.kill("SIGKILL");
      Deno.exit(130);
    }
    interrupted = true;
    console.error("\nfinishing the step in flight and saving a checkpoint (Ctrl-C again to abort)");
    state.stopSoon();
  };
  Deno.addSignalListener("SIGINT", onSignal);

  // A failed job still tells its workers "done": the local ones exit before the error is reported.
  const failure = await state.finished.then(() => undefined, (err: Error) => err);
  bar.done();
  clearInterval(leases);
  await runLog.plot(title);
  await Promise.all(children.map((c) => c.status));
  Deno.removeSignalListener("SIGINT", onSignal);
  if (failure) throw failure;
  const checks = state.hashChecks();
  await atomicWriteText(
    `${run}/summary.json`,
    JSON.stringify(
      {
        run,
        step: state.committedStep,
        checkpoint: `${run}/checkpoints/latest`,
        plot: `${run}/loss.svg`,
        data_ranges: ranges,
        weight_hash_checks: checks,
      },
      null,
      2,
    ) + "\n",
  );
  const identical = checks.filter((c) => c.identical).length;
  console.log(
    `trained to step ${state.committedStep}; weights identical on every rank at ${identical} of ` +
      `${checks.length} checks; summary in ${run}/summary.json`,
  );
  if ((f.serve ?? demo) && !interrupted) {
    await new Promise((r) => setTimeout(r, 2 * job.heartbeatMs));
    await serveAndShow(run, f.prompt!);
  }
  // grpc-js's graceful shutdown sends GOAWAY, which aborts the receiving process inside nghttp2 on
  // Deno 2.9.4–2.9.6 (`runtimeProblem` in proto/bind.ts; 2.9.3 is pinned); workers exit as soon as
  // they hear "done", so give them a moment, then end the process, which closes the sockets too.
  await new Promise((r) => setTimeout(r, 2 * job.heartbeatMs));
  Deno.exit(0);
}

async function readJobConfig(
  path: string | undefined,
  flags: { steps?: number; minWorkers?: number },
  defaults: Record<string, unknown>,
): Promise<JobConfig> {
  let raw: Record<string, unknown> = defaults;
  if (path) {
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      throw new InputError("--config", `cannot read "${path}" as JSON: ${(err as Error).message}`);
    }
  }
  const parsed = JobConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${path ?? "job config"}: ${issue.path.join(".")}`, issue.message);
  }
  const job = parsed.data;
  if (flags.steps) job.train.steps = flags.steps;
  if (flags.minWorkers) job.minWorkers = flags.minWorkers;
  return job;
}

async function spawnLocalWorkers(
  n: number,
  address: string,
  token: string,
  run: string,
  threads: number | undefined,
): Promise<Deno.ChildProcess[]> {
  if (n === 0) return [];
  await Deno.mkdir(`${run}/logs`, { recursive: true });
  const perWorker = threads ?? Math.max(1, Math.floor(navigator.hardwareConcurrency / n));
  const entry = new URL("../worker/training/worker_main.ts", import.meta.url).pathname;
  const children: Deno.ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const logFile = await Deno.open(`${run}/logs/worker-${i}.log`, {
      write: true,
      create: true,
      truncate: true,
    });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        entry,
        "--coordinator",
        address,
        "--threads",
        String(perWorker),
        "--name",
        `local-${i}`,
      ],
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

/**
 * Ingests the bundled sample corpus (text, code, a PDF, a scanned image) into `out`, with the
 * project's own documentation as more prose: 30 KB alone is memorised within a hundred steps.
 */
async function ingestSamples(out: string): Promise<string> {
  const root = new URL("../", import.meta.url).pathname;
  const pages = [...Deno.readDirSync(`${root}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `${root}docs/${e.name}`)
    .sort();
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}ingest/main.ts`,
      "--out",
      out,
      "--vocab-size",
      "1024",
      `${root}samples`,
      `${root}README.md`,
      ...pages,
    ],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`Ingesting ${root}samples failed (exit ${status.code})`);
  return out;
}

/**
 * Serves the run's checkpoint, streams one sample generation to the terminal, prints how to talk
 * to the server, and serves until Ctrl-C.
 */
async function serveAndShow(run: string, prompt: string): Promise<never> {
  const root = new URL("../", import.meta.url).pathname;
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}worker/serve/serve_main.ts`,
      "--checkpoint",
      run,
      "--port",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "", address = "";
  while (!address) {
    const { value, done } = await lines.read();
    if (done) throw new Error("The inference server exited before it listened");
    seen += value;
    address = /listening on (\S+)/.exec(seen)?.[1] ?? "";
  }
  const stop = () => {
    server.kill("SIGTERM");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  console.log(`\ninference server listening on ${address}\n\nsample generation for "${prompt}":\n`);
  await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}worker/serve/generate_main.ts`,
      "--server",
      address,
      "--prompt",
      prompt,
      "--max-tokens",
      "120",
      "--temperature",
      "0.8",
      "--top-k",
      "40",
      "--seed",
      "1",
    ],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  console.log(`

run directory     ${run}
checkpoint        ${run}/checkpoints/latest
loss plot         ${run}/loss.svg
metrics           ${run}/metrics.jsonl
server            ${address}

talk to it:
  deno task generate --server ${address} --prompt "Attention" --max-tokens 60
  deno task generate --server ${address} --prompt "Tokens" --json
  deno task embeddings --checkpoint ${run} similar model --k 8

Ctrl-C stops the server.`);
  await server.status;
  Deno.exit(0);
}
