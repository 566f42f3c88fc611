/**
 * What `deno task coordinator` does without `--data`: the whole pipeline on the bundled sample
 * corpus. Ingest samples/ (with the project's own docs as more prose), train `demoJob` with two
 * local workers, then serve the checkpoint, stream a sample generation and print how to talk to
 * the server.
 */
import { IngestOptions, runIngest } from "../ingest/mod.ts";
import { jsonLogger } from "../model/log.ts";
import { denoRun, projectPath, readUntil, SERVE_FLAGS } from "../model/subprocess.ts";
import { runRecords } from "./run_files.ts";
import type { Dashboard } from "./dashboard/mod.ts";

/** The demo's job: a few minutes of `tiny` on 2 CPU cores. */
export const demoJob = {
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

/**
 * The demo's run directory: runs/default, or runs/default-N when earlier demos hold runs there
 * (a run directory is never trained over without --resume).
 */
export async function demoRunDir(): Promise<string> {
  for (let n = 1;; n++) {
    const dir = n === 1 ? "runs/default" : `runs/default-${n}`;
    if ((await runRecords(dir)).length === 0) return dir;
  }
}

/** Workers the demo starts on this machine. */
export const DEMO_WORKERS = 2;

/**
 * Ingests the sample corpus (text, code, a PDF, a scanned image) into `out`, with the project's
 * documentation as more prose: 30 KB alone is memorised within a hundred steps.
 */
export async function ingestSamples(out: string): Promise<string> {
  const docs = projectPath("docs/");
  const pages = [...Deno.readDirSync(docs)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `${docs}${e.name}`)
    .sort();
  const inputs = [projectPath("samples"), projectPath("README.md"), ...pages];
  const options = IngestOptions.parse({ out, inputs, vocabSize: 1024 });
  const result = await runIngest(options, { log: jsonLogger({ component: "ingest" }) });
  console.log(result.summary);
  return out;
}

/**
 * Serves the run's checkpoint, streams one sample generation to the terminal, prints how to talk
 * to the server, links its playground from the dashboard, and serves until Ctrl-C.
 */
export async function serveAndShow(
  run: string,
  prompt: string,
  dashboard?: Dashboard,
): Promise<never> {
  const server = denoRun(
    "worker/serve/serve_main.ts",
    ["--checkpoint", run, "--port", "0", "--http-port", "0"],
    { stdin: "null", stdout: "piped", stderr: "inherit", denoFlags: SERVE_FLAGS },
  ).spawn();
  const seen = await readUntil(server.stdout, /http listening on (\S+)\n/);
  const address = /^listening on (\S+)$/m.exec(seen)![1];
  const http = /http listening on (\S+)\n/.exec(seen)![1];
  const playground = `http://${http}/playground`;
  dashboard?.link("Playground", playground);
  Deno.addSignalListener("SIGINT", () => {
    server.kill("SIGTERM");
    Deno.exit(0);
  });
  console.log(`\ninference server listening on ${address}\n\nsample generation for "${prompt}":\n`);
  const sample = ["--server", address, "--prompt", prompt, "--max-tokens", "120"];
  await denoRun(
    "worker/serve/generate_main.ts",
    [...sample, "--temperature", "0.8", "--top-k", "40", "--seed", "1"],
    { stdin: "null", stdout: "inherit", stderr: "inherit" },
  ).spawn().status;
  console.log(`

run directory     ${run}
checkpoint        ${run}/checkpoints/latest
loss plot         ${run}/loss.svg
metrics           ${run}/metrics.jsonl
server            ${address} (gRPC), http://${http} (OpenAI API, /metrics)
playground        ${playground}${dashboard ? `\ndashboard         ${dashboard.url}` : ""}

talk to it:
  curl http://${http}/v1/completions -d '{"prompt": "Attention", "max_tokens": 60}'
  deno task generate --server ${address} --prompt "Attention" --max-tokens 60
  deno task generate --server ${address} --prompt "Tokens" --json
  deno task embeddings --checkpoint ${run} similar model --k 8

Ctrl-C stops the server.`);
  await server.status;
  Deno.exit(0);
}
