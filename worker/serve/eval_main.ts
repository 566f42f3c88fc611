/**
 * `deno task eval --server HOST:PORT --data FILE [--window N] [--stride S] [--api-key-file F]
 * [--tls-ca PEM [--tls-server-name NAME]]`
 *
 * Perplexity and bits per byte of a text file through a server's log-probabilities (echo with
 * max_tokens 0; see perplexity.ts for the windows). Progress goes to stderr; one JSON object to
 * stdout.
 */
import { parseArgs } from "node:util";
import { InputError } from "../../model/errors.ts";
import { intFlag, runCli, secretFlag } from "../../model/cli.ts";
import { Progress } from "../../model/progress.ts";
import { GenerationClient } from "./client.ts";
import { textPerplexity } from "./perplexity.ts";

const usage = `Usage: deno task eval --server HOST:PORT --data FILE [options]

  --server HOST:PORT   the inference server (default 127.0.0.1:50051)
  --data FILE          UTF-8 text to score
  --window N           tokens per request (default and at most: the model's context)
  --stride S           new tokens scored per window (default: the window less one, so windows
                       do not overlap; smaller gives each token more context)
  --api-key-file F     file holding the key sent as the authorization metadata; or
                       DENOFORMER_API_KEY, or --api-key KEY (shows in ps)
  --tls-ca F --tls-server-name NAME   verify a TLS server
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    strict: true,
    options: {
      server: { type: "string", default: "127.0.0.1:50051" },
      data: { type: "string" },
      window: { type: "string" },
      stride: { type: "string" },
      "api-key": { type: "string" },
      "api-key-file": { type: "string" },
      "tls-ca": { type: "string" },
      "tls-server-name": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  if (!f.data) throw new InputError("--data", "is required (a UTF-8 text file)");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(f.data));
  } catch (err) {
    throw new InputError(
      "--data",
      `cannot read "${f.data}" as UTF-8 text: ${(err as Error).message}`,
    );
  }
  const window = intFlag(f.window, "--window", 2);
  const client = new GenerationClient(f.server!, {
    apiKey: await secretFlag(f, "api-key", "DENOFORMER_API_KEY"),
    tlsCaPath: f["tls-ca"],
    tlsServerName: f["tls-server-name"],
  });
  try {
    const bar = new Progress({ label: "eval", unit: "windows" });
    const result = await textPerplexity(client, text, {
      window,
      stride: intFlag(f.stride, "--stride"),
      onWindow: () => bar.tick(),
    });
    bar.done();
    console.log(JSON.stringify({ server: f.server, data: f.data, ...result }, null, 2));
  } finally {
    client.close();
  }
}
