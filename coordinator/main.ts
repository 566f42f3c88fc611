/**
 * `deno task coordinator`: owns a distributed training job (run_job.ts). Without `--data` it runs
 * the whole pipeline on the bundled samples (demo.ts).
 */
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { InputError } from "../model/errors.ts";
import { JobConfig, readJobFile } from "../model/train/mod.ts";
import { TlsFiles, tlsFlags } from "../proto/mod.ts";
import {
  type FlagTable,
  intFlag,
  parseFlags,
  parseFlagTable,
  runCli,
  secretFlag,
} from "../model/cli.ts";
import { DEMO_WORKERS, demoJob, demoRunDir, ingestSamples, serveAndShow } from "./demo.ts";
import { checkFreshRun } from "./run_files.ts";
import { runCoordinator } from "./run_job.ts";
import { type Dashboard, RunView, startDashboard } from "./dashboard/mod.ts";
import { signInUrl } from "../model/web/mod.ts";

const usage = `Usage: deno task coordinator --data DIR --out RUN [options]

  --data DIR             ingest output (manifest.json, shards, tokenizer); without it, the bundled
                         samples/ corpus is ingested into RUN/data, 2 local workers train the tiny
                         preset, and the result is served (see --serve)
  --out RUN              run directory (metrics.jsonl, data_ranges.jsonl, checkpoints/, loss.svg,
                         summary.json; without --data, runs/default or the next free runs/default-N)
  --config FILE          job config JSON: { preset, model, train, minWorkers, wire, ... }
  --steps N              optimizer steps (overrides the config)
  --host HOST            interface to listen on (default 127.0.0.1)
  --port P               port (default 50051; 0 picks a free one)
  --local-workers N      start N worker processes on this machine
  --threads N            onnxruntime threads of each local worker (default: cores / N)
  --min-workers N        workers needed before a step starts (default: the config's, and at least
                         --local-workers)
  --token-file F         file holding the job token workers must present; or DENOFORMER_TOKEN, or
                         --token T (shows in ps); default: a random one, printed
  --resume               continue from RUN's latest checkpoint (a RUN that holds a run is refused
                         without it)
  --serve                after training, start the inference server on the checkpoint, stream a
                         sample generation and keep serving until Ctrl-C (default without --data)
  --prompt TEXT          the sample generation's prompt
  --tls-cert F --tls-key F  serve TLS; --tls-ca F requires client certificates signed by it
  --metrics-port P       serve Prometheus metrics at http://HOST:P/metrics (0 picks a free port)
  --dashboard-port P     serve the training dashboard on P (0 picks a free port; on by default
                         without --data); it needs the job token, and its URL carries a generated one
  --dashboard-host HOST  the dashboard's interface (default 127.0.0.1, whatever --host says)
`;

/** Job config fields the flags override. */
const JOB_FLAGS: FlagTable = {
  "train.steps": ["--steps", intFlag],
  "minWorkers": ["--min-workers", intFlag],
};

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      steps: { type: "string" },
      "min-workers": { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      "local-workers": { type: "string" },
      threads: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      "metrics-port": { type: "string" },
      "dashboard-port": { type: "string" },
      "dashboard-host": { type: "string", default: "127.0.0.1" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "50051" },
      resume: { type: "boolean", default: false },
      serve: { type: "boolean" },
      prompt: { type: "string", default: "The model" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  const demo = !f.data;
  if (!f.out && !demo) throw new InputError("--out", "is required (the run directory)");
  const run = f.out ?? await demoRunDir();
  const base = f.config ? await readJobFile(f.config) : demo ? demoJob : {};
  const job = jobConfig(base, f, f.config);
  const localWorkers = intFlag(f["local-workers"], "--local-workers") ?? (demo ? DEMO_WORKERS : 0);
  // N local workers train together from the first step: without this, whichever starts first
  // would train alone until the other joins.
  if (f["min-workers"] === undefined) job.minWorkers = Math.max(job.minWorkers, localWorkers);
  const tls = f["tls-cert"]
    ? parseFlags(
      TlsFiles,
      { certPath: f["tls-cert"], keyPath: f["tls-key"], caPath: f["tls-ca"] },
      tlsFlags,
    )
    : undefined;
  const givenToken = await secretFlag(f, "token", "DENOFORMER_TOKEN");
  const token = givenToken ?? crypto.randomUUID();
  // Before the demo spends a minute ingesting into RUN/data.
  if (!f.resume) await checkFreshRun(run);
  const dashboardPort = intFlag(f["dashboard-port"], "--dashboard-port") ?? (demo ? 0 : undefined);
  const dashboard = dashboardPort === undefined
    ? undefined
    : openDashboard(run, f["dashboard-host"]!, dashboardPort, token, !givenToken);
  const outcome = await runCoordinator({
    data: f.data ?? await ingestSamples(`${run}/data`),
    run,
    job,
    host: f.host!,
    port: intFlag(f.port, "--port")!,
    token,
    showToken: !givenToken,
    tls,
    localWorkers,
    threads: intFlag(f.threads, "--threads"),
    resume: f.resume,
    metricsPort: intFlag(f["metrics-port"], "--metrics-port"),
    dashboard,
  });
  const settle = () => new Promise((r) => setTimeout(r, 2 * job.heartbeatMs));
  if ((f.serve ?? demo) && !outcome.interrupted) {
    await settle().then(() => serveAndShow(run, f.prompt!, dashboard));
  }
  // Workers exit as soon as they hear "done"; give them a moment, then exit rather than close the
  // server (why: ABORTING_DENO in proto/bind.ts). Pages still open get the run's end first.
  await settle();
  await dashboard?.close();
  Deno.exit(0);
}

/** The job config from a file (or defaults) with flags over it; errors name the file or flag. */
function jobConfig(base: Record<string, unknown>, f: Record<string, unknown>, file?: string) {
  try {
    return parseFlagTable(JobConfig, base, JOB_FLAGS, f);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issue = err.issues[0];
    throw new InputError(`${file ?? "job config"}: ${issue.path.join(".")}`, issue.message);
  }
}

/** Serves the dashboard of `run`; its URL comes first, as a sign-in link when the token was made here. */
function openDashboard(
  run: string,
  host: string,
  port: number,
  token: string,
  signIn: boolean,
): Dashboard {
  const dashboard = startDashboard([new RunView(run)], { host, port, token });
  console.log(`dashboard on ${signIn ? signInUrl(dashboard.url, token) : dashboard.url}`);
  return dashboard;
}
