/**
 * `deno task docs-images` end to end on a tiny budget: the real corpus, real ingest, a real (short)
 * training run and checkpoint, and every picture written, well-formed and labelled.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

function svgTexts(svg: string): string[] {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&amp;/g, "&"));
}

Deno.test("docs-images writes labelled loss, learning-rate, projection and position pictures from a real run", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "docs_images_test_" });
  try {
    const out = `${tmp}/images`, work = `${tmp}/work`;
    const r = await new Deno.Command(Deno.execPath(), {
      // The dashboard and playground screenshots take a minute of 2-worker training; the pages
      // themselves are tested in a browser by tests/coordinator/dashboard and the playground test.
      args: [
        ...["task", "--quiet", "docs-images", "--steps", "4", "--out", out, "--work", work],
        "--no-screenshots",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, stderr);
    const last = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
    assert.equal(last.out, out);
    assert.ok(Number.isFinite(last.trainLoss) && Number.isFinite(last.valLoss));

    const loss = svgTexts(await Deno.readTextFile(`${out}/loss.svg`));
    for (const t of ["train", "validation", "optimizer step", "cross-entropy (nats/token)"]) {
      assert.ok(loss.includes(t), `loss.svg lacks "${t}"`);
    }
    const lr = svgTexts(await Deno.readTextFile(`${out}/lr.svg`));
    assert.ok(lr.includes("learning rate") && lr.includes("optimizer step"));
    const pcaTexts = svgTexts(await Deno.readTextFile(`${out}/embeddings_pca.svg`));
    for (const w of ["the", "model", "attention", "woman"]) assert.ok(pcaTexts.includes(w), w);
    assert.ok(pcaTexts.some((t) => t.startsWith("PC 1 (")));

    for (const name of ["learned", "learned_similarity", "sinusoidal", "sinusoidal_similarity"]) {
      const bytes = await Deno.readFile(`${out}/positions_${name}.png`);
      assert.deepEqual([...bytes.subarray(0, 4)], [137, 80, 78, 71], name);
      assert.ok(bytes.length > 10_000, `${name}: ${bytes.length} bytes`);
    }
    const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
    assert.equal(run.train.steps, 4);
    assert.equal(run.tokens.vocabSize, 1024);
    assert.ok(run.tokens.train > 5000 && run.tokens.val > 0);
    assert.equal(run.neighbours.the.length, 5);
    await Deno.stat(`${work}/run/checkpoints/step-000004/model.safetensors`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
