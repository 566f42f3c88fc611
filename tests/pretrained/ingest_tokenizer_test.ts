/**
 * `deno task ingest --tokenizer DIR|FILE` encodes with a pretrained tokenizer instead of training
 * one: GPT-2's ids (those of gpt-tokenizer's r50k), shards wide enough for the vocabulary, and data
 * `train --init-from` accepts, while data from another tokenizer is refused.
 */
import assert from "node:assert/strict";
import { encode as r50k } from "gpt-tokenizer/encoding/r50k_base";
import { byteToUnicode } from "../../model/tokenizer/mod.ts";
import { writeHfGpt2Dir } from "./_hf_dir.ts";
import { denoOutput } from "../../model/subprocess.ts";

/** Documents already as ingest cleans them (no trailing spaces, one blank line at most). */
const DOCS = {
  "a.txt": "The quick brown fox jumps over the lazy dog.\n".repeat(40).trim(),
  "b.md": "# Notes\n\nTokenizers split text into pieces; 東京 and café too.\n".repeat(40).trim(),
};

async function withCorpus(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ingest_tok_" });
  try {
    await Deno.mkdir(`${dir}/docs`);
    for (const [name, text] of Object.entries(DOCS)) {
      await Deno.writeTextFile(`${dir}/docs/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ingest --tokenizer DIR encodes with GPT-2's tokenizer, and train --init-from takes the result", () =>
  withCorpus(async (dir) => {
    await Deno.mkdir(`${dir}/gpt2`);
    await writeHfGpt2Dir(`${dir}/gpt2`, {}); // vocab.json + merges.txt
    const ingested = await denoOutput("ingest/main.ts", [
      ...["--tokenizer", `${dir}/gpt2`, "--out", `${dir}/data`, "--val-fraction", "0"],
      `${dir}/docs`,
    ]);
    assert.equal(ingested.code, 0, ingested.stderr);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/data/manifest.json`));
    assert.equal(manifest.tokenizer.vocabSize, 50257);
    assert.equal(manifest.tokenizer.endOfTextId, 50256);
    assert.equal(manifest.dtype, "uint16");
    const shard = new Uint16Array((await Deno.readFile(`${dir}/data/train_00000.bin`)).buffer);
    const docs = Object.values(DOCS).map((text) => [...r50k(text), 50256]);
    const expected = [docs.flat(), [...docs[1], ...docs[0]]];
    assert.ok(expected.some((ids) => ids.join() === [...shard].join()), "ids are r50k's");

    const common = ["--init-from", `${dir}/gpt2`, "--steps", "1", "--context", "16"];
    const ok = await denoOutput("tools/train_main.ts", [
      ...common,
      ...["--data", `${dir}/data`, "--out", `${dir}/run`, "--micro-batch", "1"],
    ]);
    assert.equal(ok.code, 0, ok.stderr);

    const own = await denoOutput("ingest/main.ts", [
      ...["--vocab-size", "300", "--out", `${dir}/own`, "--val-fraction", "0"],
      `${dir}/docs`,
    ]);
    assert.equal(own.code, 0, own.stderr);
    const refused = await denoOutput("tools/train_main.ts", [
      ...common,
      ...["--data", `${dir}/own`, "--out", `${dir}/run2`],
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--data: Its tokens were made by another tokenizer/);
  }));

Deno.test("a vocabulary beyond 65,536 ids gets uint32 shards", () =>
  withCorpus(async (dir) => {
    const vocab: Record<string, number> = {};
    byteToUnicode.forEach((ch, b) => vocab[ch] = b);
    for (let id = 256; id < 69_999; id++) vocab[`tok${id}`] = id;
    vocab["<|endoftext|>"] = 69_999;
    await Deno.writeTextFile(`${dir}/vocab.json`, JSON.stringify(vocab));
    await Deno.writeTextFile(`${dir}/merges.txt`, "#version: 0.2\n");
    const ingested = await denoOutput("ingest/main.ts", [
      ...["--tokenizer", dir, "--out", `${dir}/data`, "--val-fraction", "0"],
      `${dir}/docs`,
    ]);
    assert.equal(ingested.code, 0, ingested.stderr);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/data/manifest.json`));
    assert.equal(manifest.dtype, "uint32");
    const bytes = await Deno.readFile(`${dir}/data/train_00000.bin`);
    const ids = new Uint32Array(bytes.buffer);
    assert.equal(bytes.length, 4 * manifest.totals.train);
    assert.equal(ids.filter((id) => id === 69_999).length, 2, "one end-of-text per document");
  }));
