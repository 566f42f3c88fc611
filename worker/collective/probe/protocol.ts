/**
 * The all-reduce probe's protocol: the commands a driver (probe_ring.ts) writes to a probe
 * process (probe_main.ts), and the deterministic inputs both sides can recompute to check a sum.
 */
import { z } from "zod";
import { AllReduceOptions } from "../ring_allreduce.ts";

/** Input patterns: `ints` are small integers (fp32 sums exact), `reals` are not. */
export const ProbePattern = z.enum(["ints", "reals"]);
export type ProbePattern = z.infer<typeof ProbePattern>;

/** Value `i` of rank `rank`'s input buffer. */
export function probeValue(pattern: ProbePattern, rank: number, i: number, seed: number): number {
  if (pattern === "ints") return ((i * 7 + rank * 13 + seed) % 201) - 100;
  return Math.sin(i * 0.001 * (rank + 1) + seed) * (1 + rank);
}

/** Rank `rank`'s input buffer, written into `into` when it has the length (else a new one). */
export function probeInput(
  pattern: ProbePattern,
  rank: number,
  length: number,
  seed: number,
  into?: Float32Array<ArrayBuffer>,
): Float32Array<ArrayBuffer> {
  const out = into?.length === length ? into : new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = probeValue(pattern, rank, i, seed);
  return out;
}

/**
 * Which transport carries chunks: the gRPC peer service, the TCP data plane with payloads on the
 * socket (`tcp`), or the TCP data plane with payloads in shared segments (`shm`, same host only).
 */
export const Transport = z.enum(["grpc", "tcp", "shm"]);
export type Transport = z.infer<typeof Transport>;

/** One command of the JSON-line protocol a probe reads on stdin. */
export const ProbeCommand = z.discriminatedUnion("cmd", [
  z.object({
    cmd: z.literal("connect"),
    right: z.string(),
    ringVersion: z.number().default(0),
    /** Present this token instead of the job's (to test refusal). */
    token: z.string().optional(),
    /** Offer shared memory (default: when the transport is `shm`); false to another host. */
    sharedMemory: z.boolean().optional(),
  }),
  z.object({
    cmd: z.literal("hierarchy"),
    ringVersion: z.number().default(0),
    /** Ranks over all hosts (the survivors, after a death). */
    worldSize: z.number().int().min(1),
    /** This rank's index on its host (0: the host's leader) and the ranks there. */
    index: z.number().int().min(0),
    size: z.number().int().min(1),
    /** A member: [its leader's address]. The leader: each member's address by index ("" at 0). */
    peers: z.array(z.string()),
    /** The leader only: its place in the ring of hosts. */
    hosts: z.object({
      rank: z.number().int().min(0),
      worldSize: z.number().int().min(1),
      right: z.string(),
    }).optional(),
  }),
  z.object({
    cmd: z.literal("allreduce"),
    length: z.number().int().min(0),
    /** The element type of the reduced buffer: fp16 as gradients cast to fp16 in the graph. */
    buffer: z.enum(["fp32", "fp16"]).default("fp32"),
    /** Through the two-level ring of the last `hierarchy` command, not the flat one. */
    hierarchical: z.boolean().default(false),
    pattern: ProbePattern.default("ints"),
    seed: z.number().int().default(0),
    repeat: z.number().int().min(1).default(1),
    /** Compare with a float64 sum of every rank's input (slow for big buffers). */
    check: z.boolean().default(true),
    // step, bucket, op, wire, chunkBytes, window, timeoutMs, chunkTimeoutMs
    options: AllReduceOptions,
  }),
  z.object({
    cmd: z.literal("p2pSend"),
    step: z.number().int(),
    bytes: z.number().int().positive(),
    chunkBytes: z.number().int().positive(),
    window: z.number().int().positive(),
  }),
  z.object({
    cmd: z.literal("p2pReceive"),
    step: z.number().int(),
    bytes: z.number().int().positive(),
    chunkBytes: z.number().int().positive(),
  }),
  z.object({ cmd: z.literal("exit") }),
]);
export type ProbeCommand = z.infer<typeof ProbeCommand>;
export type HierarchyCommand = Extract<ProbeCommand, { cmd: "hierarchy" }>;
export type AllReduceCommand = Extract<ProbeCommand, { cmd: "allreduce" }>;
export type P2pSendCommand = Extract<ProbeCommand, { cmd: "p2pSend" }>;
export type P2pReceiveCommand = Extract<ProbeCommand, { cmd: "p2pReceive" }>;
