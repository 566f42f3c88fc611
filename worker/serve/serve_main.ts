/**
 * `deno task serve --checkpoint PATH [--host H] [--port P] [--device cpu|cuda:N] [--max-batch N]
 * [--max-queue N] [--threads N] [--api-key KEY] [--tls-cert PEM --tls-key PEM]
 * [--http-port P [--http-host H]] [--served-model-name NAME]`
 *
 * Loads and verifies the checkpoint, compiles the prefill and decode graphs, and serves
 * `denoformer.v1.Generation`, health and reflection. Prints `listening on HOST:PORT` on stdout
 * once it accepts requests; with `--http-port`, also the OpenAI-compatible HTTP API and
 * Prometheus metrics (docs/serving.md) and the playground page at `/playground`, and then
 * `http listening on HOST:PORT`.
 * `--random-init tiny|small|gpt2 [--seed N] [--vocab-size N] [--context N]` serves a seeded
 * random model with the byte codec instead (tests, benchmarks).
 */
import { parseArgs } from "node:util";
import { InputError } from "../../model/errors.ts";
import type { PresetName } from "../../model/gpt/mod.ts";
import { presets } from "../../model/gpt/mod.ts";
import { InferenceEngine } from "../../model/infer/mod.ts";
import { jsonLogger } from "../../model/log.ts";
import { parseFlags, runCli } from "../../model/cli.ts";
import { TlsFiles, tlsFlags } from "../../proto/mod.ts";
import { parseDevice } from "../../model/runtime.ts";
import { checkpointModel, randomModel, type ServedModel } from "./model_source.ts";
import { Scheduler } from "./scheduler.ts";
import { startServer } from "./server.ts";
import { startHttpServer } from "./http_server.ts";
import { ServeMetrics } from "./serve_metrics.ts";
import { servedTokenEmbeddings } from "./neighbours.ts";

const log = jsonLogger({ component: "serve" });

const usage = `Usage: deno task serve --checkpoint PATH [options]

  --checkpoint PATH      run directory, its checkpoints/, latest or a step directory (verified),
                         or a Hugging Face GPT-2 directory (config.json + model.safetensors)
  --random-init PRESET   serve a seeded random tiny|small|gpt2 model with a byte codec instead
  --seed N --vocab-size N --context N   shape of the --random-init model
  --host HOST            interface (default 127.0.0.1)
  --port P               port (default 50051; 0 picks a free one)
  --device D             cpu | cuda | cuda:N (default cpu)
  --max-batch N          sequences decoded together (default 8)
  --max-queue N          requests waiting for a slot (default 64)
  --threads N            onnxruntime intra-op threads
  --api-key KEY          require this key in the request metadata
  --tls-cert F --tls-key F  serve TLS (gRPC)
  --http-port P          also serve the OpenAI-compatible HTTP API, /metrics and the playground
                         (http://HOST:P/playground) on P (0: a free one)
  --http-host HOST       its interface (default: --host)
  --served-model-name N  the model's id in the HTTP API (default: the --checkpoint path as given)
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    strict: true,
    options: {
      checkpoint: { type: "string" },
      "random-init": { type: "string" },
      seed: { type: "string", default: "0" },
      "vocab-size": { type: "string" },
      context: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "50051" },
      device: { type: "string", default: "cpu" },
      "max-batch": { type: "string", default: "8" },
      "max-queue": { type: "string", default: "64" },
      threads: { type: "string" },
      "api-key": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "http-port": { type: "string" },
      "http-host": { type: "string" },
      "served-model-name": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  const model = await loadModel(f);
  const device = f.device!;
  parseDevice(device);
  const engine = await InferenceEngine.create(model.cfg, model.weights, {
    maxBatch: int(f["max-batch"]!, "--max-batch", 1),
    device,
    threads: f.threads ? int(f.threads, "--threads", 1) : undefined,
  });
  const metrics = new ServeMetrics();
  const scheduler = new Scheduler(engine, model.codec, {
    maxQueue: int(f["max-queue"]!, "--max-queue", 0),
    logger: log,
    observer: metrics,
  });
  metrics.watch(scheduler);
  const tls = f["tls-cert"] || f["tls-key"]
    ? parseFlags(TlsFiles, { certPath: f["tls-cert"], keyPath: f["tls-key"] }, tlsFlags)
    : undefined;
  const backend = {
    engine,
    scheduler,
    codec: model.codec,
    metrics,
    name: model.name,
    modelId: f["served-model-name"] ?? f.checkpoint ?? model.name,
    device,
    apiKey: f["api-key"],
    embeddings: servedTokenEmbeddings(model.weights, model.codec),
  };
  const server = await startServer(
    backend,
    {
      host: f.host!,
      port: int(f.port!, "--port", 0),
      tls,
    },
  );
  const httpHost = f["http-host"] ?? f.host!;
  const http = f["http-port"] === undefined
    ? undefined
    : startHttpServer(backend, { host: httpHost, port: int(f["http-port"], "--http-port", 0) });
  log.info("serving", { model: model.name, ...model.cfg, maxBatch: engine.maxBatch });
  console.log(`listening on ${f.host}:${server.port}`);
  if (http) console.log(`http listening on ${httpHost}:${http.port}`);
  const stop = () => {
    server.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

async function loadModel(f: Record<string, string | boolean | undefined>): Promise<ServedModel> {
  if (typeof f.checkpoint === "string") return await checkpointModel(f.checkpoint);
  const preset = f["random-init"];
  if (typeof preset !== "string") {
    throw new InputError("--checkpoint", "give a checkpoint directory (or --random-init PRESET)");
  }
  if (!(preset in presets)) {
    throw new InputError("--random-init", `expected one of ${Object.keys(presets).join(", ")}`);
  }
  return randomModel(preset as PresetName, {
    seed: int(String(f.seed), "--seed", 0),
    vocabSize: f["vocab-size"] ? int(String(f["vocab-size"]), "--vocab-size", 1) : undefined,
    contextLength: f.context ? int(String(f.context), "--context", 1) : undefined,
  });
}

function int(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new InputError(flag, `expected an integer ≥ ${min}, got "${text}"`);
  }
  return n;
}
