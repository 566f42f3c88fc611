/**
 * Where each rank of a step sits on the ring: the flat ring, or two levels when several ranks share
 * a host (one per GPU): the ranks of a host reduce to its leader, and the leaders form the ring
 * across hosts (`hierarchicalAllReduce` in worker/collective/). A host is what the workers'
 * advertised addresses say it is: ranks whose data-plane addresses share a host part share a host.
 *
 * @example
 * ```ts
 * ringPlaces(["10.0.0.1:7001", "10.0.0.1:7002", "10.0.0.2:7001"], "auto");
 * // rank 0 leads host 0 (with rank 1), rank 2 leads host 1; 0's right is 2's address
 * ```
 */
import { twoLevelPlaces } from "../proto/mod.ts";

/** How the coordinator lays out the ring: `auto` is two levels exactly when that helps. */
export type Topology = "auto" | "flat" | "hierarchical";

/** The `StepPlan` fields that place one rank (see proto/coordinator.proto). */
export interface RingPlace {
  /** The next rank's address on the flat ring; on two levels, a leader's next leader. */
  right_address: string;
  /** 0 on the flat ring; else the ranks on this rank's host. */
  local_size: number;
  /** This rank's index on its host (0: its leader). */
  local_index: number;
  /** A member: [its leader's address]; the leader: each member's by index ("" at 0). */
  local_peers: string[];
  /** The leader: its host's place in the ring of hosts, and how many hosts. */
  host_rank: number;
  host_count: number;
}

/**
 * The place of each rank, in rank order, for ranks at `addresses` ("host:port"). `auto` forms two
 * levels only with at least two hosts and two ranks on one of them: with one host a star through a
 * leader adds more per rank than the ring, and with one rank a host there is nothing to group.
 */
export function ringPlaces(addresses: readonly string[], topology: Topology): RingPlace[] {
  const n = addresses.length;
  const hosts = new Set(addresses.map(hostOf)).size;
  const grouped = hosts > 1 && hosts < n;
  if (topology === "flat" || (topology === "auto" && !grouped)) {
    return addresses.map((_, rank) => ({
      ...FLAT,
      right_address: addresses[(rank + 1) % n],
    }));
  }
  const ranks = addresses.map((_, rank) => rank);
  const places = twoLevelPlaces(ranks, (rank) => hostOf(addresses[rank]), (r) => addresses[r]);
  return ranks.map((rank) => {
    const { index, size, peers, hosts } = places.get(rank)!;
    return {
      right_address: hosts?.right ?? "",
      local_size: size,
      local_index: index,
      local_peers: peers,
      host_rank: hosts?.rank ?? 0,
      host_count: hosts?.count ?? 0,
    };
  });
}

const FLAT = { local_size: 0, local_index: 0, local_peers: [], host_rank: 0, host_count: 0 };

/** The host part of "host:port" or "[v6]:port". */
function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":"));
}
