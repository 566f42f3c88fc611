/**
 * One ingest run in a process of its own, as `deno task ingest` gives each run: `bench ingest` times
 * its PDF extract stage this way because V8 keeps compiled WebAssembly for the life of a process,
 * so a second run in the same one would find PDFium's code already optimised and start warm.
 *
 * `deno run --allow-all bench/_ingest_run.ts OUT INPUT WORKERS` prints `{"extract": seconds}`.
 */
import { runIngest } from "../ingest/mod.ts";
import { silentLogger } from "../model/log.ts";

const [out, input, workers] = Deno.args;
const result = await runIngest(
  { out, inputs: [input], workers: Number(workers), vocabSize: 512 },
  { log: silentLogger, progressWrite: () => {} },
);
console.log(JSON.stringify({ extract: result.stages.extract }));
