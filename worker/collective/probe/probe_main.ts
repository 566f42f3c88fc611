/**
 * An all-reduce probe process: one rank of a ring, driven by JSON lines on stdin, answering JSON
 * lines on stdout. Tests and `bench/allreduce.ts` spawn several (see probe_ring.ts) to run the
 * real transport between real processes.
 *
 *     deno run -A worker/collective/probe/probe_main.ts --rank 0 --world 2 --job j --token t [--port 0]
 *       [--transport grpc|tcp|shm]
 *
 * Prints `listening on HOST:PORT`, then takes commands (see protocol.ts):
 * `{"cmd":"connect","right":"HOST:PORT"}`, `{"cmd":"hierarchy",...}`,
 * `{"cmd":"allreduce","step":1,"length":1000,...}`, `{"cmd":"p2pSend",...}`,
 * `{"cmd":"p2pReceive",...}`, `{"cmd":"exit"}`.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { jsonLogger } from "../../../model/log.ts";
import { sha256Hex } from "../../../model/sha256.ts";
import { payloadPool } from "../buffer_pool.ts";
import { ChunkMailbox } from "../chunk_mailbox.ts";
import { PeerClient } from "../grpc/peer_client.ts";
import { startPeerServer } from "../grpc/peer_server.ts";
import { sharedFloat16Array, sharedFloat32Array } from "../shm/shm_slots.ts";
import { startTcpPeerServer } from "../tcp/peer_server.ts";
import { TcpPeerClient } from "../tcp/peer_client.ts";
import { type AllReduceOptions, type Ring, ringAllReduce } from "../ring_allreduce.ts";
import { hierarchicalAllReduce, type HierarchicalRing } from "../hierarchical_allreduce.ts";
import type { ChunkSink } from "../chunk_sink.ts";
import { readLines } from "../../../model/subprocess.ts";
import {
  type AllReduceCommand,
  type HierarchyCommand,
  type P2pReceiveCommand,
  type P2pSendCommand,
  ProbeCommand,
  probeInput,
  type ProbePattern,
  probeValue,
  Transport,
} from "./protocol.ts";

/**
 * The all-reduce input, refilled in place by the next command of the same length, as a trainer
 * reuses its gradient buffer step after step (and gloo's benchmark one tensor): a fresh 40 MB
 * array per call paid for pages the peer never allocates.
 */
let reusedInput: Float32Array<ArrayBuffer> | Float16Array<ArrayBuffer> | undefined;

if (import.meta.main) await main(Deno.args);

async function main(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      rank: { type: "string" },
      world: { type: "string" },
      job: { type: "string", default: "probe" },
      token: { type: "string", default: "" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      transport: { type: "string", default: "grpc" },
    },
  });
  const transport = Transport.parse(values.transport);
  const rank = Number(values.rank);
  const logger = jsonLogger({ component: "allreduce-probe", rank });
  const mailbox = new ChunkMailbox(values.job);
  const serverOptions = {
    host: values.host,
    port: Number(values.port),
    token: values.token,
    mailbox,
    logger,
  };
  const server = transport === "grpc"
    ? await startPeerServer(serverOptions)
    : startTcpPeerServer(serverOptions);
  console.log(`listening on ${server.address}`);
  const probe: Probe = {
    ring: {
      jobId: values.job,
      ringVersion: 0,
      rank,
      worldSize: Number(values.world),
      mailbox,
      right: undefined,
    },
    hierarchy: undefined,
    token: values.token,
    transport,
  };
  const reply = (obj: Record<string, unknown>) => console.log(JSON.stringify(obj));
  for await (const line of readLines(Deno.stdin.readable)) {
    if (!line.trim()) continue;
    const cmd = ProbeCommand.parse(JSON.parse(line));
    if (cmd.cmd === "exit") break;
    try {
      reply({ ok: true, ...(await run(cmd, probe)) });
    } catch (err) {
      const e = err as Error;
      reply({ ok: false, name: e.name, error: e.message });
    }
  }
  // "exit", or stdin closed: whoever drove this probe is gone, and so is the probe.
  closeConnections(probe);
  await server.close();
  Deno.exit(0);
}

/** This probe's rank, its connections and how it makes them. */
interface Probe {
  ring: Ring;
  /** Set by the `hierarchy` command: this rank's place in a two-level ring. */
  hierarchy: HierarchicalRing | undefined;
  token: string;
  transport: Transport;
}

function run(cmd: ProbeCommand, probe: Probe): Promise<object> | object {
  switch (cmd.cmd) {
    case "connect":
      probe.ring.right?.close();
      probe.ring.right = dial(
        probe,
        cmd.right,
        cmd.token,
        cmd.sharedMemory ?? probe.transport === "shm",
      );
      probe.ring.ringVersion = cmd.ringVersion;
      return {};
    case "hierarchy":
      return connectHierarchy(cmd, probe);
    case "allreduce":
      return allReduce(cmd, probe);
    case "p2pSend":
      return p2pSend(cmd, probe.ring);
    case "p2pReceive":
      return p2pReceive(cmd, probe.ring);
    case "exit":
      return {};
  }
}

/** A connection to the server at `address`, by this probe's transport. */
function dial(probe: Probe, address: string, token: string | undefined, sharedMemory: boolean) {
  return probe.transport === "grpc"
    ? new PeerClient(address, { token: token ?? probe.token })
    : new TcpPeerClient(address, {
      jobId: probe.ring.jobId,
      token: token ?? probe.token,
      rank: probe.ring.rank,
      sharedMemory,
    });
}

function closeConnections(probe: Probe): void {
  probe.ring.right?.close();
  for (const peer of probe.hierarchy?.local.peers ?? []) peer?.close();
  probe.hierarchy?.hosts?.right?.close();
}

/**
 * Joins a two-level ring: connections to the ranks on this host (shared memory where the
 * transport is `shm`) and, on a leader, to the next host's leader (never shared memory: another
 * host, even when emulated on this machine).
 */
function connectHierarchy(cmd: HierarchyCommand, probe: Probe): object {
  closeConnections(probe);
  const { ring } = probe;
  const local = cmd.peers.map((address) =>
    address ? dial(probe, address, undefined, probe.transport === "shm") : undefined
  );
  const hosts = cmd.hosts && {
    ...ring,
    ringVersion: cmd.ringVersion,
    rank: cmd.hosts.rank,
    worldSize: cmd.hosts.worldSize,
    right: cmd.hosts.worldSize > 1 ? dial(probe, cmd.hosts.right, undefined, false) : undefined,
  };
  ring.ringVersion = cmd.ringVersion;
  ring.worldSize = cmd.worldSize;
  probe.hierarchy = {
    ...ring,
    local: { index: cmd.index, size: cmd.size, peers: local as (ChunkSink | undefined)[] },
    hosts,
  };
  return {};
}

async function allReduce(cmd: AllReduceCommand, probe: Probe): Promise<Record<string, unknown>> {
  const { ring, transport } = probe;
  const buffer = inputBuffer(cmd.length, cmd.buffer, transport === "shm");
  const reduce = (b: Float32Array | Float16Array, options: AllReduceOptions) =>
    cmd.hierarchical
      ? hierarchicalAllReduce(b, hierarchyOf(probe), options)
      : ringAllReduce(b, ring, options);
  const times: number[] = [];
  const cpuMs: number[] = [];
  const started = performance.now();
  try {
    for (let r = 0; r < cmd.repeat; r++) {
      fillInput(buffer, cmd, ring.rank);
      // Barrier (a one-element all-reduce, bucket 1) so no rank's clock starts while another
      // is still building its input, as gloo's benchmark does with dist.barrier().
      await reduce(new Float32Array(1), {
        step: cmd.options.step + r,
        bucket: cmd.options.bucket + 1,
        timeoutMs: cmd.options.timeoutMs,
        chunkTimeoutMs: cmd.options.chunkTimeoutMs,
      });
      const cpu0 = process.cpuUsage();
      const stats = await reduce(buffer, {
        ...cmd.options,
        step: cmd.options.step + r,
        // An fp16 buffer travels as itself.
        wire: cmd.buffer === "fp16" ? "fp16" : cmd.options.wire,
      });
      times.push(stats.ms);
      // The whole process's CPU (its V8 and I/O threads too): what ranks sharing cores compete for.
      const cpu = process.cpuUsage(cpu0);
      cpuMs.push((cpu.user + cpu.system) / 1000);
    }
  } catch (err) {
    const e = err as Error;
    return { failed: true, name: e.name, error: e.message, elapsedMs: performance.now() - started };
  }
  const right = cmd.hierarchical ? probe.hierarchy?.hosts?.right : ring.right;
  return {
    times,
    cpuMs,
    // How payloads went to the right neighbour (a TCP plane client knows; gRPC has one way).
    path: right instanceof TcpPeerClient ? await right.path() : transport,
    sha256: await sha256Hex(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)),
    maxAbsErr: cmd.check ? maxAbsError(buffer, cmd, ring.worldSize) : null,
  };
}

function hierarchyOf(probe: Probe): HierarchicalRing {
  if (!probe.hierarchy) throw new Error("No hierarchy: send a hierarchy command first");
  return probe.hierarchy;
}

/**
 * The reused input (see `reusedInput`) of `length` values of `type`; with shared memory, where
 * the right neighbour reads it in place.
 */
function inputBuffer(length: number, type: "fp32" | "fp16", shared: boolean) {
  const fits = reusedInput?.length === length &&
    (type === "fp16") === (reusedInput instanceof Float16Array);
  if (fits) return reusedInput!;
  if (type === "fp16") {
    return reusedInput = shared ? sharedFloat16Array(length) : new Float16Array(length);
  }
  return reusedInput = shared ? sharedFloat32Array(length) : new Float32Array(length);
}

function fillInput(
  buffer: Float32Array<ArrayBuffer> | Float16Array<ArrayBuffer>,
  cmd: AllReduceCommand,
  rank: number,
): void {
  if (buffer instanceof Float32Array) probeInput(cmd.pattern, rank, cmd.length, cmd.seed, buffer);
  else buffer.set(probeInput(cmd.pattern, rank, cmd.length, cmd.seed));
}

async function p2pSend(cmd: P2pSendCommand, ring: Ring): Promise<Record<string, unknown>> {
  const payload = new Uint8Array(cmd.chunkBytes).fill(7);
  const count = Math.ceil(cmd.bytes / cmd.chunkBytes);
  const started = performance.now();
  const stream = ring.right!.openChunkStream({
    deadline: Date.now() + 60_000,
    window: cmd.window,
    stallMs: 10_000,
  });
  for (let c = 0; c < count; c++) {
    await stream.write({
      job_id: ring.jobId,
      ring_version: 0xffff_ffff,
      step: cmd.step,
      phase: "RING_PHASE_REDUCE_SCATTER",
      chunk_index: c,
      dtype: "WIRE_DTYPE_FP32",
      element_count: payload.length / 4,
      payload,
    });
  }
  await stream.finish(10_000);
  return { ms: performance.now() - started, bytes: count * payload.length };
}

async function p2pReceive(cmd: P2pReceiveCommand, ring: Ring): Promise<Record<string, unknown>> {
  const count = Math.ceil(cmd.bytes / cmd.chunkBytes);
  const id = { ringVersion: 0xffff_ffff, step: cmd.step, bucket: 0 };
  let bytes = 0;
  for (let c = 0; c < count; c++) {
    const chunk = await ring.mailbox.take(
      id,
      { phase: "RING_PHASE_REDUCE_SCATTER", round: 0, chunkIndex: c },
      10_000,
    );
    bytes += chunk.payload.length;
    payloadPool.release(chunk.payload);
  }
  ring.mailbox.close(id);
  return { bytes };
}

function maxAbsError(
  result: Float32Array | Float16Array,
  cmd: { pattern: ProbePattern; seed: number; options: { op?: "sum" | "mean" } },
  worldSize: number,
): number {
  let worst = 0;
  for (let i = 0; i < result.length; i++) {
    let sum = 0;
    for (let r = 0; r < worldSize; r++) sum += Math.fround(probeValue(cmd.pattern, r, i, cmd.seed));
    const expected = cmd.options.op === "mean" ? sum / worldSize : sum;
    worst = Math.max(worst, Math.abs(result[i] - expected));
  }
  return worst;
}
