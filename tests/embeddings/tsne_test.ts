import assert from "node:assert/strict";
import { tsne } from "../../model/embeddings/mod.ts";
import { seededRandom } from "../model/_helpers.ts";

/** Three clusters of 20 points in 16 dimensions, around three different directions. */
function clusters(): { rows: number[][]; label: number[] } {
  const rand = seededRandom(3);
  const rows: number[][] = [], label: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 20; i++) {
      rows.push(Array.from({ length: 16 }, (_, k) => (k % 3 === c ? 1 : 0) + (rand() - 0.5) * 0.6));
      label.push(c);
    }
  }
  return { rows, label };
}

Deno.test("t-SNE keeps every point's 2-D nearest neighbour in its own cluster, and KL falls", () => {
  const { rows, label } = clusters();
  const r = tsne(rows, { perplexity: 10, iterations: 500, seed: 1 });
  let same = 0;
  r.coordinates.forEach(([x, y], i) => {
    let best = -1, bestD = Infinity;
    r.coordinates.forEach(([u, v], j) => {
      const d = (x - u) ** 2 + (y - v) ** 2;
      if (j !== i && d < bestD) [best, bestD] = [j, d];
    });
    if (label[best] === label[i]) same++;
  });
  console.log(
    `nearest neighbour in own cluster: ${same}/60; KL ${r.klHistory.map((k) => k.toFixed(3))}`,
  );
  assert.equal(same, 60);
  assert.ok(r.kl < r.klHistory[5], "KL after the exaggeration phase keeps falling");
  assert.ok(r.kl < 1, `KL ${r.kl}`);
});

Deno.test("t-SNE is deterministic for a seed and refuses a perplexity too large for the points", () => {
  const { rows } = clusters();
  const a = tsne(rows.slice(0, 12), { perplexity: 3, iterations: 100, seed: 5 });
  const b = tsne(rows.slice(0, 12), { perplexity: 3, iterations: 100, seed: 5 });
  assert.deepEqual(a.coordinates, b.coordinates);
  assert.throws(
    () => tsne(rows.slice(0, 12), { perplexity: 5 }),
    /perplexity must be between 1 and 3\.7/,
  );
  assert.throws(() => tsne(rows.slice(0, 3)), /at least 4 rows/);
});
