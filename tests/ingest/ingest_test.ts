import assert from "node:assert/strict";
import { runIngest } from "../../ingest/mod.ts";
import type { IngestResult } from "../../ingest/mod.ts";
import { loadTokens, readManifest, streamShards } from "../../model/data/mod.ts";
import { ChecksumError } from "../../model/errors.ts";
import { silentLogger } from "../../model/log.ts";
import { loadTokenizer, trainBpe } from "../../model/tokenizer/mod.ts";
import { charAccuracy } from "./_fixtures.ts";
import {
  buildCorpus,
  CODE,
  OCR_LINES,
  PDF_PAGES,
  TIFF_LINES,
  UNICODE_NAME,
  UNICODE_TEXT,
} from "./_corpus.ts";

// One corpus and one full run (OCR included) shared by the tests below: OCR is the slow part.
const root = await Deno.makeTempDir({ prefix: "ingest_test_" });
let first: Promise<IngestResult> | undefined;
const progressLines: string[] = [];
function ingestOnce(): Promise<IngestResult> {
  first ??= (async () => {
    await buildCorpus(`${root}/in`);
    return runIngest(
      {
        out: `${root}/out`,
        inputs: [`${root}/in`],
        dumpText: `${root}/text`,
        shardTokens: 64,
        vocabSize: 400,
        seed: 3,
        workers: 2,
        ocrWorkers: 2,
      },
      { log: silentLogger, progressTty: false, progressWrite: (s) => progressLines.push(s) },
    );
  })();
  return first;
}
function entry(result: IngestResult, path: string) {
  const f = result.manifest.files.find((f) => f.path === path);
  assert.ok(f, `no manifest entry for ${path}`);
  return f;
}

Deno.test("a multi-page PDF, PNG and TIFF images of text, a code file and a text file come out with the right text", async () => {
  const result = await ingestOnce();
  const pdf = await Deno.readTextFile(`${root}/text/docs/paper.pdf.txt`);
  assert.equal(pdf.trim(), PDF_PAGES.map((p) => p.join("\n")).join("\n\n"));
  assert.equal(entry(result, "docs/paper.pdf").pages, 3);

  const ocr = await Deno.readTextFile(`${root}/text/docs/scan.png.txt`);
  const accuracy = charAccuracy(OCR_LINES.join(" "), ocr);
  console.log(`OCR character accuracy: ${(accuracy * 100).toFixed(1)}%`);
  assert.ok(accuracy >= 0.9, `OCR accuracy ${accuracy} below 0.9: ${JSON.stringify(ocr)}`);
  const tiff = await Deno.readTextFile(`${root}/text/docs/page.tiff.txt`);
  const tiffAccuracy = charAccuracy(TIFF_LINES.join(" "), tiff);
  console.log(`OCR character accuracy (TIFF): ${(tiffAccuracy * 100).toFixed(1)}%`);
  assert.ok(tiffAccuracy >= 0.9, `TIFF OCR accuracy ${tiffAccuracy}: ${JSON.stringify(tiff)}`);

  assert.equal(
    await Deno.readTextFile(`${root}/text/docs/sub/add.ts.txt`),
    CODE,
    "code is verbatim, indentation kept",
  );
  const code = entry(result, "docs/sub/add.ts");
  assert.equal(code.kind, "code");
  assert.equal(code.language, "typescript");

  // Prose is whitespace-normalised; the first copy of a duplicate wins.
  const readme = result.manifest.files.filter((f) => f.path.endsWith("readme.txt"));
  assert.deepEqual(readme.map((f) => f.status).sort(), ["ok", "skipped"]);
  const kept = readme.find((f) => f.status === "ok")!;
  assert.equal(
    await Deno.readTextFile(`${root}/text/${kept.path}.txt`),
    "Deno runs TypeScript.\nIt has a standard library and a test runner.\n",
  );
  assert.match(readme.find((f) => f.status === "skipped")!.reason!, /^duplicate of "/);

  const uni = entry(result, `docs/${UNICODE_NAME}`);
  assert.equal(uni.status, "ok");
  assert.equal(await Deno.readTextFile(`${root}/text/docs/${UNICODE_NAME}.txt`), UNICODE_TEXT);

  // The progress line counts files and the pages OCR read: three images of six pages and images.
  const extractDone = progressLines.filter((l) => l.startsWith("extract")).at(-1);
  assert.match(extractDone ?? "", /100% .* files 20\/20 {2}ocr 3\/6 pages\n$/);
});

Deno.test("the tokenizer is the one trainBpe learns from the train split's texts", async () => {
  const result = await ingestOnce();
  const texts = [];
  for (const f of result.manifest.files) {
    if (f.split === "train") {
      texts.push((await Deno.readTextFile(`${root}/text/${f.path}.txt`)).slice(0, -1));
    }
  }
  const direct = trainBpe(texts, { vocabSize: 400 });
  const ingested = await loadTokenizer(`${root}/out/tokenizer.json`);
  assert.deepEqual(ingested.spec.merges, direct.spec.merges);
  assert.equal(result.manifest.tokenizer.sampled, undefined);
});

Deno.test("every bad input gets a reason in the manifest and the run goes on", async () => {
  const result = await ingestOnce();
  const expect: [string, string, RegExp][] = [
    ["bad/empty.txt", "skipped", /^empty file/],
    ["bad/truncated.pdf", "skipped", /^truncated PDF/],
    ["bad/locked.pdf", "skipped", /^encrypted PDF: a password is required/],
    ["bad/corrupt.png", "skipped", /^corrupt PNG: bad CRC/],
    ["bad/binary.txt", "skipped", /binary data .*\.txt extension/],
    ["bad/invalid_utf8.txt", "ok", /^2 invalid UTF-8 sequence/],
    ["bad/one_line.txt", "skipped", /^a single line of 10485760 characters/],
    ["bad/loop", "skipped", /^symlink loop/],
    ["bad/self_link", "skipped", /^symlink loop/],
    ["bad/dangling.txt", "skipped", /^unreadable: dangling symlink/],
    ["bad/pipe.txt", "skipped", /^unreadable: not a regular file \(a FIFO\)/],
    ["bad/generated.ts", "skipped", /^generated: marker/],
    ["bad/blank.png", "skipped", /^no text found by OCR/],
  ];
  for (const [path, status, reason] of expect) {
    const f = entry(result, path);
    assert.equal(f.status, status, `${path}: ${f.reason}`);
    assert.match(f.reason ?? "", reason, path);
  }
  assert.equal(entry(result, "bad/invalid_utf8.txt").invalidSequences, 2);
  const dumped = await Deno.readTextFile(`${root}/text/bad/invalid_utf8.txt.txt`);
  assert.equal(dumped, "Mostly fine text, \ufffd( then more, \ufffd and the end.\n");
  // Nothing got into the manifest twice and nothing was left out.
  assert.equal(
    new Set(result.manifest.files.map((f) => f.path)).size,
    result.manifest.files.length,
  );
  assert.equal(result.manifest.files.length, 20);
});

Deno.test("shards verify, split by document, and decode back to the documents", async () => {
  const result = await ingestOnce();
  const manifest = await readManifest(`${root}/out`);
  assert.deepEqual(manifest, result.manifest);
  assert.equal(manifest.dtype, "uint16");
  assert.ok(manifest.shards.length > 2, "small shardTokens gives several shards");
  for (const s of manifest.shards.slice(0, -1)) {
    if (manifest.shards[manifest.shards.indexOf(s) + 1].split === s.split) {
      assert.equal(s.tokens, 64);
    }
  }
  const tok = await loadTokenizer(`${root}/out/tokenizer.json`);
  const ok = manifest.files.filter((f) => f.status === "ok");
  let docs = 0;
  for (const split of ["train", "val"] as const) {
    const tokens = await loadTokens(`${root}/out`, split);
    assert.equal(tokens.length, manifest.totals[split]);
    const texts = tok.decode(tokens).split("<|endoftext|>").slice(0, -1);
    docs += texts.length;
    const files = ok.filter((f) => f.split === split);
    assert.equal(texts.length, files.length);
    assert.equal(tokens.length, files.reduce((n, f) => n + f.tokens, 0));
  }
  assert.equal(docs, ok.length);
  assert.ok(ok.some((f) => f.split === "val") && ok.some((f) => f.split === "train"));
});

Deno.test("a re-run over the same inputs, on one worker thread instead of two, writes byte-identical shards and manifest", async () => {
  const result = await ingestOnce();
  const again = await runIngest(
    {
      out: `${root}/out2`,
      inputs: [`${root}/in`],
      shardTokens: 64,
      vocabSize: 400,
      seed: 3,
      workers: 1,
      ocrWorkers: 1,
    },
    { log: silentLogger, progressWrite: () => {} },
  );
  assert.deepEqual(again.manifest.shards, result.manifest.shards);
  assert.equal(
    await Deno.readTextFile(`${root}/out2/manifest.json`),
    await Deno.readTextFile(`${root}/out/manifest.json`),
  );
  // A different seed moves documents between splits or reorders them: different shards.
  const reseeded = await runIngest(
    {
      out: `${root}/out3`,
      inputs: [`${root}/in/docs`],
      shardTokens: 64,
      vocabSize: 400,
      seed: 4,
      valFraction: 0.5,
    },
    { log: silentLogger, progressWrite: () => {} },
  );
  assert.notDeepEqual(reseeded.manifest.shards, result.manifest.shards);
});

Deno.test("a corrupted shard is named by the reader", async () => {
  await ingestOnce();
  const dir = `${root}/corrupt`;
  await Deno.mkdir(dir);
  for await (const e of Deno.readDir(`${root}/out`)) {
    await Deno.copyFile(`${root}/out/${e.name}`, `${dir}/${e.name}`);
  }
  const bytes = await Deno.readFile(`${dir}/train_00001.bin`);
  bytes[3] ^= 1;
  await Deno.writeFile(`${dir}/train_00001.bin`, bytes);
  await assert.rejects(readManifest(dir), (err: unknown) => {
    assert.ok(err instanceof ChecksumError);
    assert.equal(err.path, `${dir}/train_00001.bin`);
    return true;
  });
  await assert.rejects(loadTokens(dir, "train"), ChecksumError);
});

Deno.test("on a terminal the progress bars redraw one line each, with MB/s, ETA and files done", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildCorpus(`${dir}/in`, { images: false, bad: false });
    const out: string[] = [];
    const r = await runIngest(
      { out: `${dir}/out`, inputs: [`${dir}/in`], valFraction: 0.5, vocabSize: 300 },
      { log: silentLogger, progressTty: true, progressWrite: (s) => out.push(s) },
    );
    assert.ok(out.length >= 5);
    const redraw = "\r\x1b[2K";
    assert.ok(
      out.every((s) => s.startsWith(`${redraw}extract  [`) || s.startsWith(`${redraw}encode  [`)),
    );
    const extracted = out.filter((s) => s.includes("extract")).at(-1)!;
    assert.match(extracted, /100% {2}[\d.]+ MB\/s {2}0:\d\d {2}files 4\/4\n$/);
    assert.ok(out.at(-1)!.startsWith(`${redraw}encode  [########################]`), out.at(-1)!);
    // Streaming the val split gives the same tokens as loading it whole.
    const streamed: number[] = [];
    for await (const { tokens } of streamShards(`${dir}/out`, "val")) streamed.push(...tokens);
    assert.deepEqual(streamed, [...await loadTokens(`${dir}/out`, "val")]);
    assert.equal(streamed.length, r.manifest.totals.val);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("when tokenizer training must drop rare words, the manifest says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildCorpus(`${dir}/in`, { images: false, bad: false });
    const r = await runIngest(
      { out: `${dir}/out`, inputs: [`${dir}/in`], vocabSize: 300, maxTrainingWords: 12 },
      { log: silentLogger, progressWrite: () => {} },
    );
    const sampled = (await readManifest(`${dir}/out`)).tokenizer.sampled;
    assert.deepEqual(sampled, r.manifest.tokenizer.sampled);
    assert.equal(sampled?.maxWords, 12);
    assert.ok((sampled?.droppedAtMost ?? 0) >= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file without read permission is skipped as unreadable", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/ok.txt`, "readable text, enough of it to train a tokenizer on");
  await Deno.writeTextFile(`${dir}/secret.txt`, "hidden");
  await Deno.chmod(`${dir}/secret.txt`, 0o000);
  // Root reads any file through CAP_DAC_OVERRIDE; setpriv runs the real CLI without that
  // capability (and CAP_DAC_READ_SEARCH), so mode 000 means what it says, as for any other user.
  const ingest = [
    Deno.execPath(),
    "run",
    "--allow-all",
    new URL("../../ingest/main.ts", import.meta.url).pathname,
    "--out",
    `${dir}/out`,
    dir,
  ];
  const argv = Deno.uid() === 0
    ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ...ingest]
    : ingest;
  const run = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  })
    .output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  const manifest = await readManifest(`${dir}/out`);
  const f = manifest.files.find((f) => f.path === "secret.txt")!;
  assert.equal(f.status, "skipped");
  assert.match(f.reason!, /permission denied/i);
  assert.equal(manifest.files.find((f) => f.path === "ok.txt")!.status, "ok");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "cleanup of the shared corpus",
  fn: async () => {
    await first?.catch(() => {});
    await Deno.remove(root, { recursive: true });
  },
});
