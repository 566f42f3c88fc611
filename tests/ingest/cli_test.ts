import assert from "node:assert/strict";
import { buildCorpus } from "./_corpus.ts";
import { type DenoOutput, denoOutput } from "../../model/subprocess.ts";

function cli(args: string[]): Promise<DenoOutput> {
  return denoOutput("ingest/main.ts", args);
}

Deno.test("CLI ingests a folder, prints one summary line and exits 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildCorpus(`${dir}/in`, { images: false, bad: false });
    const r = await cli(["--out", `${dir}/out`, "--vocab-size", "300", "--seed", "1", `${dir}/in`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const summary = lines[0].match(
      /^ingest: 4 files \(code 1 ok; pdf 1 ok; text 2 ok\); [\d,]+ tokens \(train [\d,]+, val [\d,]+\) in \d+ shards; ([\d.]+) s \(extract ([\d.]+), tokenizer ([\d.]+), encode ([\d.]+)\)$/,
    );
    assert.ok(summary, lines[0]);
    // The stages divide the run between them: each is rounded to a tenth of a second.
    const [total, ...stages] = summary.slice(1).map(Number);
    assert.ok(Math.abs(stages.reduce((a, b) => a + b) - total) <= 0.15 + 1e-9, lines[0]);
    assert.match(
      r.stderr,
      /extract {2}\[#+\] {2}[\d.]+\/[\d.]+ MB {2}100%/,
      "plain progress line off a terminal",
    );
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/out/manifest.json`));
    // A four-file corpus runs out of repeated pairs before 300: training stops early.
    assert.ok(manifest.tokenizer.vocabSize > 258 && manifest.tokenizer.vocabSize <= 300);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI exits 1 with a clear message when no input is usable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty.txt`, new Uint8Array(0));
    await Deno.writeFile(`${dir}/zeros.txt`, new Uint8Array(100));
    const r = await cli(["--out", `${dir}/out`, dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /No usable inputs: all 2 file\(s\) were skipped \(empty file \(0 bytes\); binary data \(NUL bytes\) despite the \.txt extension\)/,
    );
    assert.equal(r.stdout, "");
    assert.equal(await Deno.stat(`${dir}/out`).catch(() => null), null, "no output folder left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI exits 2 and names the flag on a usage error", async () => {
  let r = await cli(["somewhere"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^--out: Required/);
  r = await cli(["--out", "x", "--vocab-size", "many", "in"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^--vocab-size: Expected a number, got "many"/);
  r = await cli(["--out", "x", "--val-fraction", "2", "in"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^--val-fraction: /);
  r = await cli(["--out", "x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^PATH: Give at least one input PATH/);
});
