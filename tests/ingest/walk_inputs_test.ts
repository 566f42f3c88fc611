import assert from "node:assert/strict";
import { runIngest, walkInputs } from "../../ingest/mod.ts";
import { silentLogger } from "../../model/log.ts";

Deno.test("walk order is sorted, names stay unique across inputs, .git and excluded folders are not entered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const d of ["a", "b", "a/.git", "a/out", "a/z"]) await Deno.mkdir(`${dir}/${d}`);
    for (
      const f of [
        "a/x.txt",
        "b/x.txt",
        "a/.git/config",
        "a/out/manifest.json",
        "a/z/1.txt",
        "a/B.txt",
      ]
    ) {
      await Deno.writeTextFile(`${dir}/${f}`, f);
    }
    const one = await walkInputs([`${dir}/a`], { excludeDirs: [`${dir}/a/out`] });
    assert.deepEqual(one.map((e) => e.relPath), ["B.txt", "x.txt", "z/1.txt"]);
    const two = await walkInputs([`${dir}/a/x.txt`, `${dir}/b/x.txt`]);
    assert.deepEqual(two.map((e) => e.relPath), ["x.txt", "input2/x.txt"]);
    const folders = await walkInputs([`${dir}/a`, `${dir}/b`], { excludeDirs: [`${dir}/a/out`] });
    assert.deepEqual(folders.map((e) => e.relPath), ["a/B.txt", "a/x.txt", "a/z/1.txt", "b/x.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an output folder inside the input is not ingested on a re-run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/doc.txt`, "Some text worth training on.");
    const opts = { out: `${dir}/shards`, inputs: [dir], dumpText: `${dir}/text`, vocabSize: 260 };
    const deps = { log: silentLogger, progressWrite: () => {} };
    const first = await runIngest(opts, deps);
    const second = await runIngest(opts, deps);
    assert.deepEqual(second.manifest.files.map((f) => f.path), ["doc.txt"]);
    assert.deepEqual(second.manifest, first.manifest);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
