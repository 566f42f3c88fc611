/**
 * `deno task coordinator`: owns a distributed training job.
 *
 *   deno task coordinator --data DIR --out RUN [--config job.json] [--port P] [--local-workers N]
 *     [--min-workers N] [--steps N] [--token T] [--resume]
 *
 * Admits workers that present the token, forms the ring each step, hands out data ranges, keeps
 * both step barriers, and stores the merged checkpoint every K steps and at the end. Writes
 * RUN/metrics.jsonl, RUN/data_ranges.jsonl, RUN/loss.svg and RUN/checkpoints/.
 */
import { parseArgs } from "node:util";
import {
  decodeTrainingState,
  encodeTrainingState,
  loadCheckpoint,
  saveCheckpoint,
} from "../model/checkpoint/mod.ts";
import { readManifest } from "../model/data/mod.ts";
import { InputError } from "../model/errors.ts";
import { jsonLogger } from "../model/log.ts";
import { Progress } from "../model/progress.ts";
import { JobConfig, jobModel, RunLog } from "../model/train/mod.ts";
import { TlsFiles } from "../proto/mod.ts";
import { intFlag, reportAndExit } from "../model/cli.ts";
import { Job, type StepRecord } from "./job.ts";
import { startCoordinatorServer } from "./server.ts";

const usage = `Usage: deno task coordinator --data DIR --out RUN [options]

  --data DIR             ingest output (manifest.json, shards, tokenizer)
  --out RUN              run directory (metrics.jsonl, data_ranges.jsonl, checkpoints/, loss.svg)
  --config FILE          job config JSON: { preset, model, train, minWorkers, wire, ... }
  --steps N              optimizer steps (overrides the config)
  --host HOST            interface to listen on (default 127.0.0.1)
  --port P               port (default 50051; 0 picks a free one)
  --local-workers N      start N worker processes on this machine
  --threads N            onnxruntime threads of each local worker (default: cores / N)
  --min-workers N        workers needed before a step starts (default from the config, 1)
  --token T              job token workers must present (default: a random one, printed)
  --resume               continue from RUN's latest checkpoint
  --tls-cert F --tls-key F  serve TLS; --tls-ca F requires client certificates signed by it
`;

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    reportAndExit(err);
  }
}

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
      "local-workers": { type: "string", default: "0" },
      threads: { type: "string" },
      "min-workers": { type: "string" },
      token: { type: "string" },
      resume: { type: "boolean", default: false },
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
  if (!f.data) throw new InputError("--data", "is required (an ingest output directory)");
  if (!f.out) throw new InputError("--out", "is required (the run directory)");
  const job = await readJobConfig(f.config, {
    steps: intFlag(f.steps, "--steps"),
    minWorkers: intFlag(f["min-workers"], "--min-workers"),
  });
  const localWorkers = intFlag(f["local-workers"], "--local-workers")!;
  const port = intFlag(f.port, "--port")!;
  const token = f.token ?? crypto.randomUUID();
  const tls = f["tls-cert"]
    ? TlsFiles.parse({ certPath: f["tls-cert"], keyPath: f["tls-key"], caPath: f["tls-ca"] })
    : undefined;
  const log = jsonLogger({ component: "coordinator" });

  const manifest = await readManifest(f.data);
  const files = new Map(manifest.shards.map((s) => [s.file, `${f.data}/${s.file}`]));
  files.set(manifest.tokenizer.file, `${f.data}/${manifest.tokenizer.file}`);
  const tokenizerJson = await Deno.readTextFile(`${f.data}/${manifest.tokenizer.file}`);
  const model = jobModel(job, manifest.tokenizer.vocabSize);

  const run = f.out;
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

  await state.finished;
  bar.done();
  clearInterval(leases);
  await runLog.plot(title);
  await Promise.all(children.map((c) => c.status));
  Deno.removeSignalListener("SIGINT", onSignal);
  console.log(JSON.stringify({
    run,
    step: state.committedStep,
    checkpoint: `${run}/checkpoints/latest`,
    plot: `${run}/loss.svg`,
    data_ranges: ranges,
    weight_hash_checks: state.hashChecks(),
  }));
  // grpc-js's graceful shutdown sends GOAWAY, which trips an nghttp2 assertion under Deno 2.9 on
  // either side; workers exit as soon as they hear "done", so give them a moment, then end the
  // process, which closes the sockets just as well.
  await new Promise((r) => setTimeout(r, 2 * job.heartbeatMs));
  Deno.exit(0);
}

async function readJobConfig(
  path: string | undefined,
  flags: { steps?: number; minWorkers?: number },
): Promise<JobConfig> {
  let raw: Record<string, unknown> = {};
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
  const entry = new URL("../worker/worker_main.ts", import.meta.url).pathname;
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
