import assert from "node:assert/strict";
import {
  analogy,
  cosineMatrix,
  cosineSimilarity,
  nearestTokens,
  pca,
  positionalTable,
  TokenEmbeddings,
} from "../../model/embeddings/mod.ts";
import { sinusoidalTable } from "../../model/gpt/mod.ts";
import { seededRandom } from "../model/_helpers.ts";
import { smallCheckpoint } from "./_checkpoint.ts";

const { dir, ckpt } = await smallCheckpoint();
const table = TokenEmbeddings.fromCheckpoint(ckpt);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("cosine similarity of every token's vector with itself is 1, and it is its own nearest", () => {
  for (const id of [0, 17, 300, table.vocabSize - 1]) {
    const row = table.row(id);
    assert.ok(Math.abs(cosineSimilarity(row, row) - 1) < 1e-12);
    const [first] = nearestTokens(table, row, { k: 1 });
    assert.equal(first.id, id);
    assert.ok(Math.abs(first.score - 1) < 1e-6, `score ${first.score}`);
  }
});

Deno.test("cosine similarity matches a closed form and ignores length", () => {
  assert.ok(Math.abs(cosineSimilarity([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-15);
  assert.equal(cosineSimilarity([1, 2, 3], [-2, -4, -6]), -1);
  assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
  assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
});

Deno.test("neighbours are sorted descending and equal a brute-force ranking over every row", () => {
  const w = table.word("the");
  const got = nearestTokens(table, w.vector, { k: 20, exclude: w.ids });
  for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score);
  const brute = Array.from({ length: table.vocabSize }, (_, id) => ({
    id,
    score: cosineSimilarity(table.row(id), w.vector),
  })).filter((n) => !w.ids.includes(n.id)).sort((a, b) => b.score - a.score || a.id - b.id);
  assert.deepEqual(got.map((n) => n.id), brute.slice(0, 20).map((n) => n.id));
  let maxDiff = 0;
  got.forEach((n, i) => maxDiff = Math.max(maxDiff, Math.abs(n.score - brute[i].score)));
  console.log(`max |score - brute force| = ${maxDiff.toExponential(2)}`);
  assert.ok(maxDiff < 1e-6);
  assert.ok(got.every((n) => !w.ids.includes(n.id)), "the query's own tokens are excluded");
});

Deno.test("a word of several tokens is the mean of its tokens' rows and lists its pieces", () => {
  const w = table.word("Thereinafter");
  assert.ok(w.ids.length > 1, `expected several tokens, got ${w.pieces}`);
  assert.equal(w.encoded, " Thereinafter");
  assert.equal(w.pieces.join(""), " Thereinafter");
  const mean = new Float64Array(table.width);
  for (const id of w.ids) table.row(id).forEach((v, j) => mean[j] += v / w.ids.length);
  for (let j = 0; j < table.width; j++) assert.ok(Math.abs(mean[j] - w.vector[j]) < 1e-9);
  const exact = table.word("the", { exact: true });
  assert.equal(exact.encoded, "the");
  assert.notDeepEqual(exact.ids, table.word("the").ids, '"the" and " the" are different tokens');
});

Deno.test("analogy excludes every token of its three inputs and ranks e(A) - e(B) + e(C)", () => {
  const r = analogy(table, "License", "Program", "software", { k: 15 });
  const inputIds = new Set(r.inputs.flatMap((w) => w.ids));
  assert.equal(r.neighbours.length, 15);
  for (const n of r.neighbours) assert.ok(!inputIds.has(n.id), `input token ${n.token} returned`);
  const [a, b, c] = r.inputs.map((w) => w.vector);
  const q = a.map((v, j) => v - b[j] + c[j]);
  assert.deepEqual(
    r.neighbours.map((n) => n.id),
    nearestTokens(table, q, { k: 15, exclude: inputIds }).map((n) => n.id),
  );
});

Deno.test("the similarity matrix is symmetric with ones on the diagonal", () => {
  const vs = ["the", "License", "software", "Thereinafter"].map((w) => table.word(w).vector);
  const m = cosineMatrix(vs);
  m.forEach((row, i) => {
    assert.equal(row[i], 1);
    row.forEach((v, j) => {
      assert.ok(Math.abs(v - m[j][i]) < 1e-15);
      assert.ok(Math.abs(v - cosineSimilarity(vs[i], vs[j])) < 1e-12);
    });
  });
});

Deno.test("PCA recovers the principal axes of a 2-D Gaussian against the closed-form eigenvectors", () => {
  const rand = seededRandom(7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const rows: number[][] = [];
  for (let i = 0; i < 2000; i++) {
    const u = 3 * normal(), v = 0.5 * normal();
    rows.push([u * Math.cos(0.4) - v * Math.sin(0.4) + 5, u * Math.sin(0.4) + v * Math.cos(0.4)]);
  }
  // Closed form for the 2×2 sample covariance [[a, b], [b, c]].
  const n = rows.length;
  const mx = rows.reduce((s, r) => s + r[0], 0) / n, my = rows.reduce((s, r) => s + r[1], 0) / n;
  let a = 0, b = 0, c = 0;
  for (const [x, y] of rows) {
    a += (x - mx) ** 2 / (n - 1);
    b += (x - mx) * (y - my) / (n - 1);
    c += (y - my) ** 2 / (n - 1);
  }
  const l1 = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const l2 = (a + c) / 2 - Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const e1 = [b, l1 - a], norm = Math.hypot(e1[0], e1[1]);
  const r = pca(rows, 2);
  console.log(`variances ${r.variances.map((v) => v.toFixed(6))} vs closed form ${l1}, ${l2}`);
  assert.ok(Math.abs(r.variances[0] - l1) < 1e-9 * l1);
  assert.ok(Math.abs(r.variances[1] - l2) < 1e-9 * l1);
  assert.ok(
    Math.abs(Math.abs(r.components[0][0] * e1[0] + r.components[0][1] * e1[1]) / norm - 1) < 1e-9,
  );
  assert.ok(Math.abs(r.explained[0] + r.explained[1] - 1) < 1e-12);
});

Deno.test("PCA components of embedding rows are orthonormal and the projections carry their variance", () => {
  const rows = Array.from({ length: 60 }, (_, i) => table.row(i * 7));
  const r = pca(rows, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const d = r.components[i].reduce((s, v, k) => s + v * r.components[j][k], 0);
      assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-9, `<c${i}, c${j}> = ${d}`);
    }
    const col = r.coordinates.map((p) => p[i]);
    const variance = col.reduce((s, v) => s + v * v, 0) / (col.length - 1);
    assert.ok(Math.abs(variance - r.variances[i]) < 1e-9 * r.variances[0]);
    if (i > 0) assert.ok(r.variances[i] <= r.variances[i - 1] + 1e-12);
  }
});

Deno.test("the learned positional table is the checkpoint's wpe, the sinusoidal one the fixed formula", async () => {
  const learned = positionalTable(ckpt);
  assert.equal(learned.kind, "learned");
  assert.equal(learned.positions, 32);
  assert.deepEqual(
    learned.rows[3],
    ckpt.tensors.get("transformer.wpe.weight")!.data.subarray(192, 256),
  );
  const sin = await smallCheckpoint("sinusoidal", 1);
  try {
    const fixed = positionalTable(sin.ckpt);
    assert.equal(fixed.kind, "sinusoidal");
    assert.deepEqual(fixed.rows[5], sinusoidalTable(32, 64).subarray(5 * 64, 6 * 64));
    const sim = cosineMatrix(fixed.rows);
    // Sinusoidal positions: nearby positions look more alike than distant ones.
    assert.ok(sim[10][11] > sim[10][20] && sim[10][11] > sim[10][31], `${sim[10]}`);
  } finally {
    await Deno.remove(sin.dir, { recursive: true });
  }
});
