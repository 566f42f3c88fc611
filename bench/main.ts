/**
 * `deno task bench NAME [flags]`: runs `bench/NAME.ts`, which prints one JSON object.
 *
 * Benchmarks compare against a peer measured in the same run and never assert on time.
 */
const names = [
  "allreduce",
  "compiler",
  "decode",
  "ingest",
  "scaling",
  "tokenizer",
  "train",
] as const;

const [name, ...rest] = Deno.args;
if (!name || !(names as readonly string[]).includes(name)) {
  console.error(`Usage: deno task bench <${names.join("|")}> [flags]`);
  Deno.exit(2);
}
const module = await import(`./${name}.ts`);
await module.main(rest);
