/**
 * The charts' decimation (coordinator/dashboard/assets/decimate.js, the file the browser loads)
 * on a noisy 100k-point loss curve with spikes: few points come out, and in every pixel column
 * they span exactly what the full curve spans there.
 */
import assert from "node:assert/strict";
import { decimate } from "../../../coordinator/dashboard/assets/decimate.js";
import { seededRandom } from "../../../worker/serve/mod.ts";

/** A loss curve: decay, seeded noise, two spikes, and a few missing values. */
function lossCurve(n: number): { xs: number[]; ys: (number | null)[] } {
  const random = seededRandom(7);
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  const ys: (number | null)[] = xs.map((s) => 2 + 5 * Math.exp(-s / 8000) + 0.3 * (random() - 0.5));
  ys[31_337] = 40; // a divergence an average would hide
  ys[77_777] = -1;
  for (const i of [10, 500, 99_998]) ys[i] = null;
  return { xs, ys };
}

Deno.test("decimating 100k points into 800 columns keeps each column's first, last, lowest and highest point", () => {
  const { xs, ys } = lossCurve(100_000);
  const columns = 800;
  const [dx, dy] = decimate(xs, ys, columns);
  console.log(`100000 points -> ${dx.length}`);
  assert.ok(dx.length <= 4 * columns && dx.length >= 2 * columns, `${dx.length} points`);
  for (let i = 1; i < dx.length; i++) assert.ok(dx[i] > dx[i - 1], "x ascends, no duplicates");
  // Every point is a real point of the curve.
  dx.forEach((x, i) => assert.equal(dy[i], ys[x - 1]));
  assert.deepEqual([dx[0], dx.at(-1)], [1, 100_000], "the first and last drawable points stay");
  assert.ok(dy.includes(40) && dy.includes(-1), "the spikes stay");

  // Independently: bucket the full curve by pixel column, compare each column's extent and ends.
  const x0 = 1, span = 100_000 - 1;
  const full = new Map<number, number[]>(), kept = new Map<number, number[]>();
  const col = (x: number) => Math.min(columns - 1, Math.floor((x - x0) / span * columns));
  xs.forEach((x, i) =>
    ys[i] !== null && (full.get(col(x)) ?? full.set(col(x), []).get(col(x))!).push(i)
  );
  dx.forEach((x) => (kept.get(col(x)) ?? kept.set(col(x), []).get(col(x))!).push(x - 1));
  assert.equal(kept.size, full.size, "every column is drawn");
  for (const [c, all] of full) {
    const values = all.map((i) => ys[i] as number), got = kept.get(c)!;
    const gotValues = got.map((i) => ys[i] as number);
    assert.equal(Math.min(...gotValues), Math.min(...values), `column ${c} low`);
    assert.equal(Math.max(...gotValues), Math.max(...values), `column ${c} high`);
    assert.deepEqual([got[0], got.at(-1)], [all[0], all.at(-1)], `column ${c} ends`);
  }
});

Deno.test("a curve that already fits is returned whole, without its missing values", () => {
  const [x, y] = decimate([1, 2, 3, 4], [5, null, 4, NaN], 100);
  assert.deepEqual([x, y], [[1, 3], [5, 4]]);
  assert.deepEqual(decimate([], [], 100), [[], []]);
});
