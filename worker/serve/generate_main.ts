/**
 * `deno task generate --server HOST:PORT --prompt TEXT [--max-tokens N] [--temperature T]
 * [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop STR]… [--json]
 * [--logprobs K] [--echo] [--api-key-file F] [--tls-ca PEM [--tls-server-name NAME]] [--deadline-ms N]`
 *
 * Streams the generated text to stdout as it arrives; `--json` prints each response as a JSON line;
 * `--logprobs K` prints one line per token instead: the token, its log-probability and the K most
 * likely alternatives (`--echo` first lists the prompt's tokens the same way).
 */
import { parseArgs } from "node:util";
import { reportAndExit, secretFlag } from "../../model/cli.ts";
import { GenerationClient, type TokenLogprobMessage } from "./client.ts";

const usage = `Usage: deno task generate --server HOST:PORT --prompt TEXT [options]

  --server HOST:PORT       the inference server (default 127.0.0.1:50051)
  --prompt TEXT            the prompt
  --max-tokens N           tokens to generate (default 64)
  --temperature T          0 is greedy (default 0)
  --top-k K --top-p P      sampling filters (default off)
  --repetition-penalty R   (default 1)
  --seed S                 makes sampling reproducible
  --stop STR               stop sequence, not emitted (repeatable)
  --json                   print each response as a JSON line
  --logprobs K             print each token with its log-probability and K alternatives (0-5)
  --echo                   also send back the prompt's tokens (scored with --logprobs)
  --api-key-file F         file holding the key sent as the authorization metadata; or
                           DENOFORMER_API_KEY, or --api-key KEY (shows in ps)
  --tls-ca F --tls-server-name NAME   verify a TLS server
  --deadline-ms N          give up after N ms
`;

const { values: f } = parseArgs({
  args: Deno.args,
  strict: true,
  options: {
    server: { type: "string", default: "127.0.0.1:50051" },
    prompt: { type: "string", default: "" },
    "max-tokens": { type: "string", default: "64" },
    temperature: { type: "string", default: "0" },
    "top-k": { type: "string", default: "0" },
    "top-p": { type: "string", default: "1" },
    "repetition-penalty": { type: "string", default: "1" },
    seed: { type: "string" },
    stop: { type: "string", multiple: true, default: [] },
    json: { type: "boolean", default: false },
    logprobs: { type: "string" },
    echo: { type: "boolean", default: false },
    "api-key": { type: "string" },
    "api-key-file": { type: "string" },
    "tls-ca": { type: "string" },
    "tls-server-name": { type: "string" },
    "deadline-ms": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (f.help) {
  console.log(usage);
  Deno.exit(0);
}

const apiKey = await secretFlag(f, "api-key", "DENOFORMER_API_KEY").catch(reportAndExit);
const client = new GenerationClient(f.server!, {
  apiKey,
  tlsCaPath: f["tls-ca"],
  tlsServerName: f["tls-server-name"],
});
const encoder = new TextEncoder();
try {
  const stream = client.generate({
    prompt: f.prompt!,
    max_tokens: Number(f["max-tokens"]),
    temperature: Number(f.temperature),
    top_k: Number(f["top-k"]),
    top_p: Number(f["top-p"]),
    repetition_penalty: Number(f["repetition-penalty"]),
    seed: f.seed === undefined ? undefined : Number(f.seed),
    stop: f.stop,
    logprobs: f.logprobs === undefined ? undefined : Number(f.logprobs),
    echo: f.echo,
  }, { deadlineMs: f["deadline-ms"] ? Number(f["deadline-ms"]) : undefined });
  for await (const r of stream) {
    if (f.json) console.log(JSON.stringify(r));
    else if (f.logprobs !== undefined) r.logprobs.forEach((lp) => console.log(logprobLine(lp)));
    else await Deno.stdout.write(encoder.encode(r.text));
  }
  if (!f.json && f.logprobs === undefined) console.log();
} catch (err) {
  const e = err as { code?: number; details?: string; message: string };
  console.error(
    `error: ${e.details ?? e.message}${e.code !== undefined ? ` (code ${e.code})` : ""}`,
  );
  Deno.exitCode = 1;
} finally {
  client.close();
}

/** `"token"  -1.2345  "alt" -0.9876  "alt" -1.5432`; a prompt's first token has no log-probability. */
function logprobLine(lp: TokenLogprobMessage): string {
  const alternatives = lp.top.map((t) => `${JSON.stringify(t.token)} ${t.logprob.toFixed(4)}`);
  const value = lp.logprob === undefined ? "(first)" : lp.logprob.toFixed(4);
  return `${JSON.stringify(lp.token).padEnd(12)} ${value.padStart(9)}   ${alternatives.join("  ")}`;
}
