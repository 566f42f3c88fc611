/**
 * What a rank of a ring all-reduce sends and receives at each pipeline step, apart from moving
 * bytes: phases, rounds and segments.
 *
 * Reduce-scatter, rounds r = 0 … n−2: rank k sends segment (k − r) mod n to its right neighbour and
 * adds segment (k − r − 1) mod n from its left one; after n − 1 rounds it holds the full sum of
 * segment (k + 1) mod n. All-gather, rounds r = 0 … n−2: it sends segment (k + 1 − r) mod n and
 * overwrites segment (k − r) mod n with what arrives. The segment received at one pipeline step is
 * the one sent at the next, so the two phases are one chain of 2(n − 1) steps.
 *
 * @example
 * ```ts
 * const schedule = new RingSchedule(rank, n, new SegmentLayout(buffer.length, n, 1 << 19));
 * for (let t = 0; t < schedule.steps; t++) schedule.received(t); // { phase, round, segment }
 * ```
 */
import type { RingPhase } from "../../proto/mod.ts";

/** Segment and chunk boundaries: segment s is [⌊sL/n⌋, ⌊(s+1)L/n⌋), cut into chunks. */
export class SegmentLayout {
  constructor(
    readonly length: number,
    readonly segments: number,
    readonly chunkElements: number,
  ) {
    if (chunkElements < 1) {
      throw new RangeError(`chunkElements must be positive, got ${chunkElements}`);
    }
  }

  /** [start, end) of segment `s`. */
  segment(s: number): [number, number] {
    return [
      Math.floor((s * this.length) / this.segments),
      Math.floor(((s + 1) * this.length) / this.segments),
    ];
  }

  /** Number of chunks segment `s` is cut into (0 for an empty segment). */
  chunkCount(s: number): number {
    const [start, end] = this.segment(s);
    return Math.ceil((end - start) / this.chunkElements);
  }

  /** [start, end) of chunk `c` of segment `s`, as buffer indices. */
  chunk(s: number, c: number): [number, number] {
    const [start, end] = this.segment(s);
    const from = start + c * this.chunkElements;
    return [from, Math.min(end, from + this.chunkElements)];
  }
}

/** Where a pipeline step stands: its phase, the round within the phase, and the segment. */
export interface RingStep {
  phase: RingPhase;
  round: number;
  segment: number;
}

/** The pipeline steps of one rank of an n-rank ring (n ≥ 2). */
export class RingSchedule {
  /** Pipeline steps: n − 1 of reduce-scatter, then n − 1 of all-gather. */
  readonly steps: number;
  /** The rank chunks come from. */
  readonly left: number;

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly layout: SegmentLayout,
  ) {
    if (worldSize < 2) throw new RangeError(`A ring needs 2 ranks or more, got ${worldSize}`);
    this.steps = 2 * (worldSize - 1);
    this.left = mod(rank - 1, worldSize);
  }

  /** Whether step `t` adds what arrives (reduce-scatter) rather than copying it (all-gather). */
  reduces(t: number): boolean {
    return t < this.worldSize - 1;
  }

  /** Whether step `t` completes the sum of the segment it receives (the last reduce-scatter). */
  completes(t: number): boolean {
    return t === this.worldSize - 2;
  }

  /** Phase, round and segment of what arrives at step `t`. */
  received(t: number): RingStep {
    return { ...this.#at(t), segment: this.#receivedSegment(t) };
  }

  /** Phase, round and segment of what this rank sends at step `t`: what it received at t − 1. */
  sent(t: number): RingStep {
    return { ...this.#at(t), segment: t === 0 ? this.rank : this.#receivedSegment(t - 1) };
  }

  #at(t: number): { phase: RingPhase; round: number } {
    const n1 = this.worldSize - 1;
    return this.reduces(t)
      ? { phase: "RING_PHASE_REDUCE_SCATTER", round: t }
      : { phase: "RING_PHASE_ALL_GATHER", round: t - n1 };
  }

  #receivedSegment(t: number): number {
    const n1 = this.worldSize - 1;
    return mod(this.reduces(t) ? this.rank - t - 1 : this.rank - (t - n1), this.worldSize);
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
