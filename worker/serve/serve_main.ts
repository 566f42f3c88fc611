/**
 * `deno task serve --checkpoint PATH [--host H] [--port P] [--device cpu|webgpu|cuda:N]
 * [--max-batch N] [--max-queue N] [--threads N] [--api-key-file F] [--tls-cert PEM --tls-key PEM]
 * [--http-port P [--http-host H] [--allowed-origins O]] [--served-model-name NAME]`
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
import { PresetName } from "../../model/gpt/mod.ts";
import { jsonLogger } from "../../model/log.ts";
import { intFlag, parseFlags, runCli, secretFlag } from "../../model/cli.ts";
import { TlsFiles, tlsFlags } from "../../proto/mod.ts";
import { parseDevice } from "../../model/runtime.ts";
import { checkpointModel, randomModel, type ServedModel } from "./model_source.ts";
import { parseAllowedOrigins } from "./cors.ts";
import { serveModel } from "./serve.ts";

const usage = `Usage: deno task serve --checkpoint PATH [options]

  --checkpoint PATH      run directory, its checkpoints/, latest or a step directory (verified),
                         or a Hugging Face GPT-2 directory (config.json + model.safetensors)
  --random-init PRESET   serve a seeded random tiny|small|gpt2 model with a byte codec instead
  --seed N --vocab-size N --context N   shape of the --random-init model
  --host HOST            interface (default 127.0.0.1)
  --port P               port (default 50051; 0 picks a free one)
  --device D             cpu | webgpu | cuda | cuda:N (default cpu)
  --max-batch N          sequences decoded together (default 8)
  --max-queue N          requests waiting for a slot (default 64)
  --threads N            onnxruntime intra-op threads
  --api-key-file F       require the key in this file in the request metadata; or
                         DENOFORMER_API_KEY, or --api-key KEY (shows in ps)
  --tls-cert F --tls-key F  serve TLS (gRPC)
  --http-port P          also serve the OpenAI-compatible HTTP API, /metrics and the playground
                         (http://HOST:P/playground) on P (0: a free one)
  --http-host HOST       its interface (default: --host)
  --allowed-origins O    comma-separated origins (https://app.example.com) whose browser pages may
                         call the HTTP API, or * for any; the API key is still required
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
      "api-key-file": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "http-port": { type: "string" },
      "http-host": { type: "string" },
      "allowed-origins": { type: "string" },
      "served-model-name": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  parseDevice(f.device!);
  const allowedOrigins = f["allowed-origins"] === undefined
    ? undefined
    : parseAllowedOrigins(f["allowed-origins"], "--allowed-origins");
  const tls = f["tls-cert"] || f["tls-key"]
    ? parseFlags(TlsFiles, { certPath: f["tls-cert"], keyPath: f["tls-key"] }, tlsFlags)
    : undefined;
  const model = await loadModel(f);
  const served = await serveModel(model, {
    host: f.host!,
    port: intFlag(f.port, "--port")!,
    tls,
    httpPort: intFlag(f["http-port"], "--http-port"),
    httpHost: f["http-host"],
    allowedOrigins,
    maxBatch: intFlag(f["max-batch"], "--max-batch", 1),
    maxQueue: intFlag(f["max-queue"], "--max-queue"),
    threads: intFlag(f.threads, "--threads", 1),
    device: f.device,
    apiKey: await secretFlag(f, "api-key", "DENOFORMER_API_KEY"),
    modelId: f["served-model-name"] ?? f.checkpoint ?? model.name,
    log: jsonLogger({ component: "serve" }),
  });
  console.log(`listening on ${f.host}:${served.port}`);
  if (served.httpPort !== undefined) {
    console.log(`http listening on ${served.httpHost}:${served.httpPort}`);
  }
  const stop = () => {
    served.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

async function loadModel(f: Record<string, string | boolean | undefined>): Promise<ServedModel> {
  if (typeof f.checkpoint === "string") return await checkpointModel(f.checkpoint);
  if (f["random-init"] === undefined) {
    throw new InputError("--checkpoint", "give a checkpoint directory (or --random-init PRESET)");
  }
  const preset = PresetName.safeParse(f["random-init"]);
  if (!preset.success) {
    throw new InputError("--random-init", `expected one of ${PresetName.options.join(", ")}`);
  }
  return randomModel(preset.data, {
    seed: intFlag(String(f.seed), "--seed")!,
    vocabSize: intFlag(f["vocab-size"] as string | undefined, "--vocab-size", 1),
    contextLength: intFlag(f.context as string | undefined, "--context", 1),
  });
}
