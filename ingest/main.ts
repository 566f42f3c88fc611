/**
 * `deno task ingest --out DIR [--vocab-size N] [--val-fraction F] [--seed S] [--dump-text TEXTDIR]
 * [--tokenizer DIR|FILE] [--shard-tokens N] [--ocr-workers N] [--workers N] PATH...`
 *
 * Exit status: 0 when some inputs were usable, 1 when none were, 2 for a usage error.
 */
import { parseArgs } from "node:util";
import { InputError } from "../model/errors.ts";
import { jsonLogger } from "../model/log.ts";
import { IngestOptions } from "./options.ts";
import { NoUsableInputError, runIngest } from "./run_ingest.ts";

const USAGE = `Usage: deno task ingest --out DIR [--vocab-size N] [--val-fraction F] [--seed S]
       [--dump-text TEXTDIR] [--tokenizer DIR|FILE] [--shard-tokens N] [--ocr-workers N]
       [--workers N] PATH...

  --tokenizer DIR|FILE   encode with this tokenizer instead of training one: a tokenizer.json, or
                         a model directory (tokenizer.json, or vocab.json + merges.txt)`;

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        "vocab-size": { type: "string" },
        "val-fraction": { type: "string" },
        seed: { type: "string" },
        "dump-text": { type: "string" },
        tokenizer: { type: "string" },
        "shard-tokens": { type: "string" },
        "ocr-workers": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (flag: string, s: string | undefined) => {
    if (s === undefined) return undefined;
    const x = Number(s);
    if (s.trim() === "" || !Number.isFinite(x)) {
      throw new InputError(`--${flag}`, `Expected a number, got "${s}"`);
    }
    return x;
  };
  let opts;
  try {
    const checked = IngestOptions.safeParse({
      out: v.out,
      inputs: positionals,
      vocabSize: num("vocab-size", v["vocab-size"]),
      valFraction: num("val-fraction", v["val-fraction"]),
      seed: num("seed", v.seed),
      dumpText: v["dump-text"],
      tokenizer: v.tokenizer,
      shardTokens: num("shard-tokens", v["shard-tokens"]),
      ocrWorkers: num("ocr-workers", v["ocr-workers"]),
      workers: num("workers", v.workers),
    });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const flag = { inputs: "PATH", out: "--out" }[String(issue.path[0])] ??
        `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
      throw new InputError(
        flag,
        issue.path[0] === "out" && v.out === undefined ? "Required" : issue.message,
      );
    }
    opts = checked.data;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = jsonLogger({ component: "ingest" });
  try {
    const { summary } = await runIngest(opts, { log });
    console.log(summary);
    return 0;
  } catch (err) {
    if (err instanceof NoUsableInputError) {
      console.error(`ingest: ${err.message}`);
      return 1;
    }
    if (err instanceof InputError) {
      console.error(`ingest: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
