/**
 * The ring's schedule alone, run symbolically: each rank's segments hold the set of ranks whose
 * inputs they contain, so a wrong segment or phase shows as a missing or doubled contribution.
 */
import assert from "node:assert/strict";
import { RingSchedule, SegmentLayout } from "../../../worker/collective/mod.ts";

Deno.test("every rank ends with every rank's contribution once in every segment, for 2 to 9 ranks", () => {
  for (let n = 2; n <= 9; n++) {
    const layout = new SegmentLayout(100, n, 7);
    const schedules = Array.from({ length: n }, (_, k) => new RingSchedule(k, n, layout));
    // held[k][s]: bit r set when segment s on rank k includes rank r's input.
    const held = schedules.map((_, k) => Array.from({ length: n }, () => 1 << k));
    const all = (1 << n) - 1;
    const owners = new Set<number>();
    for (let t = 0; t < schedules[0].steps; t++) {
      const sent = schedules.map((s, k) => ({ step: s.sent(t), bits: held[k][s.sent(t).segment] }));
      for (const [k, schedule] of schedules.entries()) {
        const from = sent[schedule.left];
        const got = schedule.received(t);
        assert.deepEqual(got, from.step, `n=${n} rank ${k} step ${t}: expects what its left sent`);
        const mine = held[k][got.segment];
        if (schedule.reduces(t)) {
          assert.equal(mine & from.bits, 0, `n=${n} rank ${k} step ${t}: a contribution twice`);
          held[k][got.segment] = mine | from.bits;
        } else {
          assert.equal(from.bits, all, `n=${n} step ${t}: all-gather passes on a partial sum`);
          held[k][got.segment] = from.bits;
        }
        if (schedule.completes(t)) {
          assert.equal(held[k][got.segment], all, `n=${n} rank ${k} completes a partial sum`);
          owners.add(got.segment);
        }
      }
    }
    assert.equal(owners.size, n, `n=${n}: each segment is completed on exactly one rank`);
    for (const [k, segments] of held.entries()) {
      assert.deepEqual(segments, Array(n).fill(all), `n=${n} rank ${k}`);
    }
  }
});

Deno.test("the schedule's rounds count 0 … n−2 in each phase, reduce-scatter first", () => {
  const s = new RingSchedule(2, 4, new SegmentLayout(10, 4, 1));
  assert.equal(s.steps, 6);
  assert.equal(s.left, 1);
  const phases = Array.from(
    { length: s.steps },
    (_, t) => [s.received(t).phase, s.received(t).round],
  );
  assert.deepEqual(phases, [
    ["RING_PHASE_REDUCE_SCATTER", 0],
    ["RING_PHASE_REDUCE_SCATTER", 1],
    ["RING_PHASE_REDUCE_SCATTER", 2],
    ["RING_PHASE_ALL_GATHER", 0],
    ["RING_PHASE_ALL_GATHER", 1],
    ["RING_PHASE_ALL_GATHER", 2],
  ]);
  assert.equal(s.sent(0).segment, 2, "a rank starts with its own segment");
  assert.equal(s.received(2).segment, 3, "and after reduce-scatter owns segment (k + 1) mod n");
  assert.throws(() => new RingSchedule(0, 1, new SegmentLayout(10, 1, 1)), /2 ranks or more/);
});
