/**
 * `deno task worker`: one training worker (one per CPU or GPU).
 *
 *   deno task worker --coordinator HOST:PORT [--token-file F] [--device cpu|webgpu|cuda:N] [--threads N]
 */
import { parseArgs } from "node:util";
import { InputError } from "../../model/errors.ts";
import { jsonLogger } from "../../model/log.ts";
import { parseDevice } from "../../model/runtime.ts";
import { TlsFiles, tlsFlags } from "../../proto/mod.ts";
import { intFlag, parseFlags, runCli, secretFlag } from "../../model/cli.ts";
import { runTrainingWorker } from "./training_worker.ts";

const usage = `Usage: deno task worker --coordinator HOST:PORT --token-file F [options]

  --coordinator HOST:PORT  the coordinator to join
  --token-file F           file holding the job token; or DENOFORMER_TOKEN, or --token T (shows in ps)
  --device D               cpu | webgpu | cuda | cuda:N (default cpu)
  --threads N              onnxruntime intra-op threads (default: all cores)
  --name NAME              shown in the coordinator's logs (default: the host name)
  --host HOST              interface for this worker's peer server, reachable by the others (default 127.0.0.1)
  --cache DIR              shard cache (default $HOME/.cache/denoformer/shards)
  --tls-cert F --tls-key F serve the peer service over TLS
  --tls-ca F               verify the other side's certificate (mutual TLS)
  --tls-server-name NAME   expected certificate name when dialling an IP address
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      coordinator: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      name: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      cache: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-ca": { type: "string" },
      "tls-server-name": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  if (!f.coordinator) throw new InputError("--coordinator", "is required (HOST:PORT)");
  const token = await secretFlag(f, "token", "DENOFORMER_TOKEN");
  if (!token) throw new InputError("--token-file", "is required (or set DENOFORMER_TOKEN)");
  parseDevice(f.device!);
  const name = f.name ?? Deno.hostname();
  const tls = f["tls-cert"] || f["tls-ca"]
    ? parseFlags(TlsFiles, {
      certPath: f["tls-cert"],
      keyPath: f["tls-key"],
      caPath: f["tls-ca"],
      serverName: f["tls-server-name"],
    }, tlsFlags)
    : undefined;
  const outcome = await runTrainingWorker({
    coordinator: f.coordinator,
    token,
    name,
    device: f.device!,
    threads: intFlag(f.threads, "--threads"),
    cacheDir: f.cache ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache/denoformer/shards`,
    host: f.host!,
    tls,
    log: jsonLogger({ component: "worker", name }),
  });
  if (outcome.failure) console.error(`error: the job failed: ${outcome.failure}`);
  Deno.exit(outcome.failure ? 1 : 0);
}
