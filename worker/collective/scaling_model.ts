/**
 * How a data-parallel step's time grows with hosts: compute plus ring all-reduce, nothing
 * overlapped (the backward pass is one onnxruntime call; see docs/scaling.md). The all-reduce of
 * B bytes over H hosts takes 2(H − 1) hops of latency α plus 2(H − 1)/H · B bytes through each
 * host, at the slower of the link and the ring's own processing (the adds, copies and socket work
 * of one rank, measured where the link is not the limit):
 *
 *     T_allreduce = 2(H − 1)·α + 2(H − 1)/H · B · max(1/linkBytesPerSec, cpuSecondsPerByte)
 *     T_step = T_compute + T_allreduce,   tokens/s = H · tokensPerHostStep / T_step
 *
 * @example
 * ```ts
 * const ar = allReduceSeconds({ hosts: 8, bytes: 4 * 14e6, linkBitsPerSec: 10e9, hopSeconds: 1e-4,
 *   cpuSecondsPerByte: 1e-9 });
 * ```
 */

/** The measured constants of one ring over one kind of link. */
export interface RingCosts {
  /** Latency of one hop (a chunk from one rank to the next, small). */
  hopSeconds: number;
  /** Seconds a rank spends per byte it passes on when the link is not the limit. */
  cpuSecondsPerByte: number;
}

/** One all-reduce: how many hosts, how many bytes (of the wire format), what link. */
export interface AllReduceCase extends RingCosts {
  hosts: number;
  bytes: number;
  /** Link rate each way, bits per second (tc's "10gbit" is 1e10). */
  linkBitsPerSec: number;
  /**
   * Ranks that share one machine's cores (emulated hosts on one machine): their processing is
   * stretched by ranks / cores when there are more ranks than cores. Default: each host its own.
   */
  sharedCores?: number;
}

/** Predicted seconds of one ring all-reduce (see the module comment). */
export function allReduceSeconds(c: AllReduceCase): number {
  const h = c.hosts;
  if (h < 2) return 0;
  const crowding = c.sharedCores ? Math.max(1, h / c.sharedCores) : 1;
  const perByte = Math.max(8 / c.linkBitsPerSec, c.cpuSecondsPerByte * crowding);
  return 2 * (h - 1) * c.hopSeconds + (2 * (h - 1) / h) * c.bytes * perByte;
}

/** A training step on many hosts. */
export interface StepCase extends AllReduceCase {
  /** Forward, backward and optimizer time of one host's step. */
  computeSeconds: number;
  /** Tokens one host trains on per step. */
  tokensPerHost: number;
}

/** Predicted step time and throughput over all hosts. */
export function stepPrediction(c: StepCase): {
  stepSeconds: number;
  allReduceSeconds: number;
  tokensPerSec: number;
  /** tokens/s over H × one host's tokens/s alone. */
  efficiency: number;
} {
  const ar = allReduceSeconds(c);
  const stepSeconds = c.computeSeconds + ar;
  return {
    stepSeconds,
    allReduceSeconds: ar,
    tokensPerSec: (c.hosts * c.tokensPerHost) / stepSeconds,
    efficiency: c.computeSeconds / stepSeconds,
  };
}

/**
 * The ring costs from two measurements on an unshaped link: the time of a tiny all-reduce (all
 * latency) and of a large one of `bytes` (all processing), both on `hosts` hosts.
 */
export function fitRingCosts(
  hosts: number,
  tinySeconds: number,
  bytes: number,
  largeSeconds: number,
): RingCosts {
  const hops = 2 * (hosts - 1);
  const hopSeconds = tinySeconds / hops;
  const cpuSecondsPerByte = Math.max(0, largeSeconds - tinySeconds) / ((hops / hosts) * bytes);
  return { hopSeconds, cpuSecondsPerByte };
}
