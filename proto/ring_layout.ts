/**
 * How a two-level ring places ranks (`hierarchicalAllReduce` in worker/collective/ runs it, and a
 * `StepPlan`'s `local_*` and `host_*` fields carry it; see coordinator.proto): the ranks grouped by
 * host, hosts in the order they first appear among the ranks, the first rank of each host its
 * leader, and the leaders in a ring of hosts. The coordinator places a job's workers with it and
 * the all-reduce probes of tests and benchmarks place theirs, so both run the same layout.
 *
 * @example
 * ```ts
 * const addresses = ["10.0.0.1:1", "10.0.0.1:2", "10.0.0.2:1"];
 * twoLevelPlaces([0, 1, 2], (r) => addresses[r].split(":")[0], (r) => addresses[r]).get(1);
 * // { index: 1, size: 2, peers: ["10.0.0.1:1"] }: rank 1 sends to its host's leader
 * ```
 */

/** One rank's place on a two-level ring. */
export interface TwoLevelPlace {
  /** Its index among its host's ranks (0: the host's leader), and how many there are. */
  index: number;
  size: number;
  /** The leader: each of its host's ranks' addresses by index ("" for itself); a member: its leader's. */
  peers: string[];
  /** The leader only: its host's place in the ring of hosts, how many hosts, the next leader. */
  hosts?: { rank: number; count: number; right: string };
}

/** The place of each of `ranks`, grouped by `hostOf` and addressed by `addressOf`. */
export function twoLevelPlaces<H>(
  ranks: readonly number[],
  hostOf: (rank: number) => H,
  addressOf: (rank: number) => string,
): Map<number, TwoLevelPlace> {
  const groups = [...Map.groupBy(ranks, hostOf).values()];
  const leaders = groups.map((group) => group[0]);
  const places = new Map<number, TwoLevelPlace>();
  groups.forEach((group, h) => {
    group.forEach((rank, index) => {
      places.set(rank, {
        index,
        size: group.length,
        peers: index === 0
          ? group.map((r, i) => (i === 0 ? "" : addressOf(r)))
          : [addressOf(group[0])],
        hosts: index === 0
          ? { rank: h, count: groups.length, right: addressOf(leaders[(h + 1) % leaders.length]) }
          : undefined,
      });
    });
  });
  return places;
}
