/**
 * `deno task bench NAME [flags]`: runs `bench/NAME.ts`, which prints one JSON object.
 *
 * Benchmarks compare against a peer measured in the same run and never assert on time.
 */
const benchmarks = {
  allreduce: "ring all-reduce against gloo, on loopback or emulated hosts: --worlds --elements " +
    "--chunk-bytes --window --wires --transports --warmup --calls --no-peer --links --per-host " +
    "--delay",
  compiler: "building, serialising and loading the GPT-2 train step: --repeats --precision",
  decode: "KV-cached decoding against PyTorch: --preset --batches --streams --threads --prompt " +
    "--attention --no-cache-steps --device --peer-device --no-peer --skip-server",
  ingest: "PDF text against pdftotext, OCR against the tesseract CLI, peak RSS: --files --pages " +
    "--scans --mb --workers",
  scaling: "the scaling model fitted and checked on emulated hosts: --hosts --links --wires " +
    "--elements --calls --presets --plots --no-peer",
  tokenizer: "BPE training and encoding against @huggingface/tokenizers: --mb --vocab",
  train: "training tokens/s against PyTorch: --presets --precisions --threads --device --steps " +
    "--peer-device --no-peer --workers",
} as const;

const [name, ...rest] = Deno.args;
if (name === "--help" || name === "-h") {
  console.log("Usage: deno task bench NAME [flags]   (prints one JSON object)\n\nCommands:");
  for (const [bench, what] of Object.entries(benchmarks)) {
    console.log(`  ${bench.padEnd(10)} ${what}`);
  }
  console.log("\nEach bench/NAME.ts says what its flags mean.");
  Deno.exit(0);
}
if (!name || !(name in benchmarks)) {
  console.error(`Usage: deno task bench <${Object.keys(benchmarks).join("|")}> [flags]`);
  Deno.exit(2);
}
const module = await import(`./${name}.ts`);
await module.main(rest);
