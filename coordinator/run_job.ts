/**
 * One distributed training job from start to end: open the run directory (or resume it), serve
 * the job to workers, start any local workers, wait for the last step, write the summary. The
 * job's rules (membership, barriers, data ranges) live in job.ts; this module connects them to
 * files (through run_files.ts, which retries and names the path of a write that fails), the
 * terminal and the network.
 *
 * @example
 * ```ts
 * const outcome = await runCoordinator({ data, run, job, host: "127.0.0.1", port: 0, token });
 * ```
 */
import {
  decodeTrainingState,
  encodeTrainingState,
  loadCheckpoint,
  type LoadedCheckpoint,
  loadModelDir,
  saveCheckpoint,
} from "../model/checkpoint/mod.ts";
import { readManifest } from "../model/data/mod.ts";
import { appendText, atomicWriteText } from "../model/atomic_write.ts";
import type { GptConfig } from "../model/gpt/mod.ts";
import { jsonLogger, type Logger } from "../model/log.ts";
import {
  checkDataTokenizer,
  fineTuningJob,
  JobConfig,
  jobModel,
  pretrainedState,
  RunConsole,
  RunLog,
} from "../model/train/mod.ts";
import type { TlsFiles } from "../proto/mod.ts";
import { serveMetrics } from "../model/metrics/mod.ts";
import { Job, type StepRecord } from "./job.ts";
import { scheduleLine, stepLine, TrainingMetrics } from "./metrics.ts";
import { type Dashboard, followJob } from "./dashboard/mod.ts";
import { spawnLocalWorkers } from "./local_workers.ts";
import { checkFreshRun, rewindAtResume, RunFiles } from "./run_files.ts";
import { startCoordinatorServer } from "./server.ts";

/** What {@linkcode runCoordinator} needs. */
export interface CoordinatorOptions {
  /** Ingest output: manifest.json, shards, tokenizer. */
  data: string;
  /** Run directory: metrics.jsonl, data_ranges.jsonl, checkpoints/, loss.svg, summary.json. */
  run: string;
  job: JobConfig;
  host: string;
  port: number;
  token: string;
  /** Print the token (it was generated, so nobody else knows it). */
  showToken?: boolean;
  tls?: TlsFiles;
  /** Worker processes to start on this machine. */
  localWorkers?: number;
  /** onnxruntime threads of each local worker (default: cores / local workers). */
  threads?: number;
  /** Continue from the run's latest checkpoint (without it, a run directory in use is refused). */
  resume?: boolean;
  /** Serve Prometheus metrics on this port of `host` (0 picks a free one). */
  metricsPort?: number;
  /** A dashboard already serving: its first run shows this job. */
  dashboard?: Dashboard;
}

/** How a job ended. */
export interface JobOutcome {
  /** The last committed step. */
  step: number;
  /** Ctrl-C ended it before its last step. */
  interrupted: boolean;
}

/**
 * Runs the job until its last step (or Ctrl-C), then writes RUN/summary.json. A job that fails
 * (a run file that cannot be written, a step that keeps failing) tells its workers, then throws.
 */
export async function runCoordinator(o: CoordinatorOptions): Promise<JobOutcome> {
  const log = jsonLogger({ component: "coordinator" });
  const files = new RunFiles(log);
  const run = await openRun(o, files);
  let children: Deno.ChildProcess[] = [];
  using view = new RunConsole({
    total: o.job.train.steps,
    initial: run.startStep,
    stopping: "saving a checkpoint",
    onStop: () => job.stopSoon(),
    onAbort: () => children.forEach((c) => c.kill("SIGKILL")),
  });
  const metrics = new TrainingMetrics({ tokensPerWorkerStep: tokensPerWorker(o.job, run.model) });
  const job = jobState(o, run, files, log, metrics);
  writeMetricsLines(metrics, `${o.run}/metrics.jsonl`, { run, files, view, job });
  const config = { ...o.job, model: run.model };
  await files.write(
    `${o.run}/job.json`,
    (path) => atomicWriteText(path, JSON.stringify(config, null, 2) + "\n"),
  );
  if (o.dashboard) {
    followJob(o.dashboard.views[0], { run: o.run, config, metrics, finished: job.finished });
  }
  const { port } = await startCoordinatorServer(
    {
      job,
      token: o.token,
      jobJson: JSON.stringify(o.job),
      manifestJson: JSON.stringify(run.manifest),
      files: run.files,
      heartbeatMs: o.job.heartbeatMs,
      transport: o.job.transport,
      log,
    },
    o.host,
    o.port,
    o.tls,
  );
  const address = `${o.host}:${port}`;
  console.log(`listening on ${address}`);
  if (o.metricsPort !== undefined) {
    const served = serveMetrics(metrics.registry, {
      host: o.host,
      port: o.metricsPort,
      flag: "--metrics-port",
    });
    console.log(`metrics on http://${o.host}:${served.port}/metrics`);
  }
  if (o.showToken) console.error(`job token: ${o.token}`);
  const leases = setInterval(() => job.expireLeases(o.job.heartbeatMs), o.job.heartbeatMs);
  children = await spawnLocalWorkers(o.localWorkers ?? 0, address, o.token, o.run, o.threads);
  const failure = await job.finished.then(() => undefined, (err: Error) => err);
  clearInterval(leases);
  if (failure) {
    // The workers were told "the job failed"; let the answers reach them before this ends.
    await new Promise((r) => setTimeout(r, 2 * o.job.heartbeatMs));
    await Promise.all(children.map((c) => c.status));
    throw failure;
  }
  await files.write(`${o.run}/loss.svg`, () => run.log.plot(run.title));
  await Promise.all(children.map((c) => c.status));
  await writeSummary(o.run, job, run.ranges, files, metrics);
  return { step: job.committedStep, interrupted: view.stopRequested };
}

/** The run directory opened for a job: its data, its model and where it resumes. */
interface OpenRun {
  manifest: Awaited<ReturnType<typeof readManifest>>;
  /** Files workers may fetch: name → path. */
  files: Map<string, string>;
  tokenizerJson: string;
  model: GptConfig;
  resumed?: LoadedCheckpoint;
  /** The model a fine-tuning job starts from (job config `initFrom`). */
  pretrained?: Awaited<ReturnType<typeof loadModelDir>>;
  startStep: number;
  log: RunLog;
  ranges: string;
  title: string;
}

async function openRun(o: CoordinatorOptions, runFiles: RunFiles): Promise<OpenRun> {
  const manifest = await readManifest(o.data);
  const files = new Map(manifest.shards.map((s) => [s.file, `${o.data}/${s.file}`]));
  files.set(manifest.tokenizer.file, `${o.data}/${manifest.tokenizer.file}`);
  let tokenizerJson = await Deno.readTextFile(`${o.data}/${manifest.tokenizer.file}`);
  // Fine-tuning: the shape (sent to workers in the job) and the first weights come from the model.
  const pretrained = o.job.initFrom ? await loadModelDir(o.job.initFrom) : undefined;
  if (pretrained) {
    checkDataTokenizer(tokenizerJson, pretrained, "--data");
    o.job = JobConfig.parse(fineTuningJob(o.job, pretrained.config));
    tokenizerJson = pretrained.tokenizerJson;
  }
  const model = jobModel(o.job, manifest.tokenizer.vocabSize);
  if (!o.resume) await checkFreshRun(o.run);
  const resumed = o.resume ? await loadCheckpoint(o.run) : undefined;
  const startStep = resumed?.state.step ?? 0;
  const log = await runFiles.write(`${o.run}/metrics.jsonl`, () => RunLog.open(o.run, startStep));
  const ranges = `${o.run}/data_ranges.jsonl`;
  if (!resumed) await runFiles.write(ranges, (path) => Deno.writeTextFile(path, ""));
  // Steps recorded after the checkpoint are replayed: say so, so that no sample counts twice.
  const rewind = resumed && await rewindAtResume(ranges, startStep, resumed.path);
  if (rewind) {
    await runFiles.write(ranges, (path) => appendText(path, JSON.stringify(rewind) + "\n"));
  }
  const title = `${o.job.preset} (${model.layers}×${model.width}, vocab ${model.vocabSize}), ` +
    `distributed, ${o.job.train.precision}`;
  return {
    manifest,
    files,
    tokenizerJson,
    model,
    resumed,
    pretrained,
    startStep,
    log,
    ranges,
    title,
  };
}

/** Tokens one worker trains on in one optimizer step. */
function tokensPerWorker(job: JobConfig, model: GptConfig): number {
  const { train } = job;
  return train.microBatch * train.gradAccum * (train.sequenceLength ?? model.contextLength);
}

/**
 * RUN/metrics.jsonl's step and schedule lines, written as the metrics hear of them: a committed
 * step's line carries the snapshot after it (tokens, tokens/s), and the learning rate and loss
 * scale the workers applied come on a line of their own once they report them. Step lines also
 * move the terminal's bar.
 */
function writeMetricsLines(
  metrics: TrainingMetrics,
  path: string,
  o: { run: OpenRun; files: RunFiles; view: RunConsole; job: Job },
): void {
  metrics.subscribe((e) => {
    let line;
    if (e.kind === "step" && e.record.committed) {
      line = stepLine(e.record, e.snapshot);
      o.view.step(line);
    } else if (e.kind === "schedule") line = scheduleLine(e);
    else return;
    o.files.write(path, () => o.run.log.write(line)).catch((err: Error) => o.job.fail(err));
  });
}

/** The job's state machine, wired to the run's files. */
function jobState(
  o: CoordinatorOptions,
  run: OpenRun,
  files: RunFiles,
  log: Logger,
  observer: TrainingMetrics,
): Job {
  const { train } = o.job;
  const metrics = `${o.run}/metrics.jsonl`;
  const job = new Job({
    steps: train.steps,
    samplesPerWorker: train.microBatch * train.gradAccum,
    minWorkers: o.job.minWorkers,
    deadAfterMs: o.job.deadAfterMs,
    checkpointEvery: train.checkpointEvery,
    hashEvery: o.job.hashEvery,
    evalEvery: train.evalEvery,
    topology: o.job.topology,
    startStep: run.startStep,
    startDataPosition: (run.resumed?.state.data_position as number | undefined) ?? 0,
    log,
    observer,
    onStep: (r: StepRecord) =>
      files.write(run.ranges, (path) => appendText(path, JSON.stringify(r) + "\n")),
    onRewind: async (r) => {
      await files.write(run.ranges, (path) => appendText(path, JSON.stringify(r) + "\n"));
      // As on resume, the loss curve drops the points of the steps that are replayed.
      run.log = await files.write(metrics, () => RunLog.open(o.run, r.rewind_to));
    },
    onValLoss: (step, loss) => files.write(metrics, () => run.log.write({ step, val_loss: loss })),
    onState: async (step, bytes) => {
      const state = decodeTrainingState(bytes, "uploaded state");
      const contents = { config: run.model, tokenizerJson: run.tokenizerJson, ...state };
      const saved = await files.write(
        `${o.run}/checkpoints`,
        (path) => saveCheckpoint(path, contents, { keepLast: train.keepLast }),
      );
      await files.write(`${o.run}/loss.svg`, () => run.log.plot(run.title));
      log.info("checkpoint saved", { step, path: saved.path });
    },
  });
  const start = run.resumed ?? (run.pretrained && pretrainedState(run.pretrained));
  if (start) job.state = { step: run.startStep, bytes: encodeTrainingState(start) };
  return job;
}

async function writeSummary(
  run: string,
  job: Job,
  ranges: string,
  files: RunFiles,
  metrics: TrainingMetrics,
): Promise<void> {
  const checks = job.hashChecks();
  const { tokens, workers } = metrics.snapshot();
  const summary = {
    run,
    step: job.committedStep,
    tokens,
    checkpoint: `${run}/checkpoints/latest`,
    plot: `${run}/loss.svg`,
    data_ranges: ranges,
    weight_hash_checks: checks,
    workers,
  };
  await files.write(
    `${run}/summary.json`,
    (path) => atomicWriteText(path, JSON.stringify(summary, null, 2) + "\n"),
  );
  const identical = checks.filter((c) => c.identical).length;
  console.log(
    `trained to step ${job.committedStep}; weights identical on every rank at ${identical} of ` +
      `${checks.length} checks; summary in ${run}/summary.json`,
  );
}
