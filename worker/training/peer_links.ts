/**
 * A training worker's connections to the ranks it sends gradient chunks to, kept from step to step
 * while the plan keeps naming them, and the all-reduce each plan calls for: the flat ring, or two
 * levels when the coordinator grouped ranks by host (`local_size` > 0; see coordinator/topology.ts).
 *
 * @example
 * ```ts
 * const links = new PeerLinks({ jobId, token, transport: "tcp", sharedMemory: true });
 * await links.allReduce(plan, mailbox)(grads, { step: plan.step, signal });
 * ```
 */
import type { StepPlan, TlsFiles } from "../../proto/mod.ts";
import {
  type AllReduceOptions,
  type AllReduceStats,
  type ChunkMailbox,
  type ChunkSink,
  hierarchicalAllReduce,
  PeerClient,
  ringAllReduce,
  TcpPeerClient,
} from "../collective/mod.ts";

/** How this worker reaches its peers. */
export interface PeerLinkOptions {
  jobId: string;
  token: string;
  transport: "tcp" | "grpc";
  /** Offer shared memory to peers on this host (TCP only). */
  sharedMemory: boolean;
  tls?: TlsFiles;
}

/** An all-reduce of one buffer in the current plan's ring. */
export type PlannedAllReduce = (
  buffer: Float32Array | Float16Array,
  options: AllReduceOptions & { signal?: AbortSignal },
) => Promise<AllReduceStats>;

/** Connections by address, opened on first use and closed once a plan no longer names them. */
export class PeerLinks {
  readonly #o: PeerLinkOptions;
  readonly #links = new Map<string, ChunkSink>();
  /**
   * Where this rank's gradients go first: its right neighbour on the flat ring; on two levels a
   * leader's link to the next host (else its first member), a member's link to its leader.
   */
  right: ChunkSink | undefined;

  constructor(options: PeerLinkOptions) {
    this.#o = options;
  }

  /**
   * The all-reduce `plan` calls for. A rank's peers on its own host may share memory with it; its
   * link to another host never offers to (an emulated host on the same machine could accept).
   */
  allReduce(plan: StepPlan, mailbox: ChunkMailbox): PlannedAllReduce {
    const ids = {
      jobId: mailbox.jobId,
      ringVersion: plan.ring_version,
      rank: plan.rank,
      worldSize: plan.world_size,
      mailbox,
    };
    if (plan.local_size === 0) {
      this.right = plan.world_size > 1 ? this.#use(plan, [plan.right_address], true)[0] : undefined;
      const ring = { ...ids, right: this.right };
      return (buffer, options) => ringAllReduce(buffer, ring, options);
    }
    const leader = plan.local_index === 0;
    const across = leader && plan.host_count > 1 ? plan.right_address : "";
    const [right, ...peers] = this.#use(plan, [across, ...plan.local_peers], false);
    this.right = right ?? peers.find(Boolean);
    const hierarchy = {
      ...ids,
      local: { index: plan.local_index, size: plan.local_size, peers },
      hosts: leader
        ? { ...ids, rank: plan.host_rank, worldSize: plan.host_count, right }
        : undefined,
    };
    return (buffer, options) => hierarchicalAllReduce(buffer, hierarchy, options);
  }

  /** Closes every connection. */
  close(): void {
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    this.right = undefined;
  }

  /**
   * Connections to `addresses` ("" for none), the first one to another host unless `sameHost`;
   * connections to addresses the plan no longer names are closed.
   */
  #use(plan: StepPlan, addresses: string[], sameHost: boolean): (ChunkSink | undefined)[] {
    const wanted = new Set(addresses.filter(Boolean));
    for (const [address, link] of this.#links) {
      if (!wanted.has(address)) {
        link.close();
        this.#links.delete(address);
      }
    }
    return addresses.map((address, i) => {
      if (!address) return undefined;
      let link = this.#links.get(address);
      if (!link) {
        link = this.#dial(address, plan.rank, sameHost || i > 0);
        this.#links.set(address, link);
      }
      return link;
    });
  }

  #dial(address: string, rank: number, sameHost: boolean): ChunkSink {
    const o = this.#o;
    return o.transport === "tcp"
      ? new TcpPeerClient(address, {
        jobId: o.jobId,
        token: o.token,
        rank,
        sharedMemory: o.sharedMemory && sameHost,
      })
      : new PeerClient(address, { token: o.token, tls: o.tls });
  }
}
