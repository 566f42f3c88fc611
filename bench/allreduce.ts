/**
 * `deno task bench allreduce [--worlds 2,4] [--elements 10000000] [--chunk-bytes N] [--window N]
 * [--wires fp32,bf16] [--transports grpc,tcp,shm] [--warmup 2] [--calls 5] [--no-peer]`
 *
 * Ring all-reduce (sum) of one fp32 buffer across real worker processes on loopback (transports:
 * `grpc` the peer service, `tcp` the data plane with payloads on the socket, `shm` the same data
 * plane with payloads in shared segments, as ranks on one host use it), measured as
 * nccl-tests does: per call the slowest rank's time, median over the timed calls,
 * algBw = bytes / time, busBw = algBw · 2(n − 1)/n, GB = 1e9 bytes. Next to it, in the same run,
 * point-to-point gRPC throughput: one process streaming the same bytes to another over the same
 * peer service, and the peer, `../shared/peers/torch_allreduce_bench.py allreduce --world N` (gloo),
 * on the same buffer (`--no-peer` skips it). A bf16 or fp16 wire row still counts the fp32
 * buffer's bytes (the bandwidth the caller sees), though half as many travel. Prints one JSON
 * object; asserts nothing about time.
 */
import { parseArgs } from "node:util";
import { MAX_CHUNK_BYTES } from "../proto/mod.ts";
import { spawnProbeRing, Transport } from "../worker/collective/mod.ts";
import { runPeer } from "./_peer.ts";
import { median, round } from "./_stats.ts";

/** Runs the benchmark and prints its JSON. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      worlds: { type: "string", default: "2,4" },
      elements: { type: "string", default: "10000000" },
      "chunk-bytes": { type: "string", default: String(MAX_CHUNK_BYTES) },
      window: { type: "string", default: "16" },
      wires: { type: "string", default: "fp32,bf16" },
      transports: { type: "string", default: "grpc,tcp,shm" },
      warmup: { type: "string", default: "2" },
      calls: { type: "string", default: "5" },
      "no-peer": { type: "boolean", default: false },
    },
  });
  const elements = Number(values.elements);
  const bytes = elements * 4;
  const chunkBytes = Number(values["chunk-bytes"]);
  const window = Number(values.window);
  const warmup = Number(values.warmup);
  const calls = Number(values.calls);
  const wires = values.wires.split(",");

  const allreduce: Record<string, unknown>[] = [];
  const p2p: Record<string, unknown>[] = [];
  for (const transport of values.transports.split(",").map((t) => Transport.parse(t))) {
    for (const n of values.worlds.split(",").map(Number)) {
      await using ring = await spawnProbeRing(n, { job: "bench", transport });
      if (n >= 2 && !p2p.some((p) => p.transport === transport)) {
        p2p.push({
          transport,
          ...await pointToPoint(ring, bytes, chunkBytes, window, warmup, calls),
        });
      }
      for (const [w, wire] of wires.entries()) {
        const times: number[] = [];
        for (let call = 0; call < warmup + calls; call++) {
          const replies = await ring.all(() => ({
            cmd: "allreduce",
            length: elements,
            check: false,
            options: { chunkBytes, window, wire, step: w * 1000 + call },
          }));
          const failed = replies.find((r) => r.failed || !r.ok);
          if (failed) throw new Error(`All-reduce failed: ${failed.error}`);
          if (new Set(replies.map((r) => r.sha256)).size !== 1) throw new Error("Ranks disagree");
          const path = replies.find((r) => r.path !== transport)?.path;
          if (path) throw new Error(`The ${transport} row's payloads went by ${path}`);
          if (call >= warmup) {
            times.push(Math.max(...replies.map((r) => (r.times as number[])[0])) / 1000);
          }
        }
        const seconds = median(times);
        const algBw = bytes / seconds / 1e9;
        allreduce.push({
          transport,
          world: n,
          wire,
          seconds_each: times.map((t) => round(t, 5)),
          seconds_median: round(seconds, 5),
          algBw_GBps: round(algBw, 4),
          busBw_GBps: round((algBw * 2 * (n - 1)) / n, 4),
        });
      }
    }
  }
  // The peer: PyTorch's gloo all-reduce of the same buffer on the same world sizes, this run.
  const gloo: Record<string, unknown>[] = [];
  if (!values["no-peer"]) {
    for (const n of values.worlds.split(",").map(Number)) {
      const peer = await runPeer("torch_allreduce_bench.py", [
        "allreduce",
        "--world",
        String(n),
        "--elements",
        String(elements),
        "--warmup",
        String(warmup),
        "--iters",
        String(calls),
      ]);
      gloo.push({
        world: n,
        ...(peer.unavailable ? peer : {
          seconds_median: round(peer.seconds_median as number, 5),
          algBw_GBps: round(peer.alg_bw_GBps as number, 4),
          busBw_GBps: round(peer.bus_bw_GBps as number, 4),
          sum_correct: peer.sum_correct,
        }),
      });
    }
  }
  const ratios = allreduce.map((r) => {
    const peer = gloo.find((g) => g.world === r.world && g.busBw_GBps);
    return {
      transport: r.transport,
      world: r.world,
      wire: r.wire,
      busBw_vs_gloo: peer ? round((r.busBw_GBps as number) / (peer.busBw_GBps as number), 3) : null,
    };
  });
  console.log(JSON.stringify(
    {
      bench: "allreduce",
      what: "ring all-reduce (reduce-scatter + all-gather) between deno processes on 127.0.0.1; " +
        "transport grpc = grpc-js peer service, tcp = the same chunk messages on a plain socket",
      elements,
      bytes,
      chunkBytes,
      window,
      warmup,
      calls,
      time_definition: "per call the slowest rank's time; median of the timed calls",
      bw_definition: "algBw = bytes/median time; busBw = algBw*2(N-1)/N; GB = 1e9 bytes",
      allreduce,
      point_to_point: p2p,
      peer_gloo: gloo,
      ratios,
      deno: Deno.version.deno,
      cpus: navigator.hardwareConcurrency,
    },
    null,
    2,
  ));
}

/** One-way streaming throughput, rank 0 to rank 1, with the same chunk messages and transport. */
async function pointToPoint(
  ring: Awaited<ReturnType<typeof spawnProbeRing>>,
  bytes: number,
  chunkBytes: number,
  window: number,
  warmup: number,
  calls: number,
): Promise<Record<string, unknown>> {
  const times: number[] = [];
  for (let call = 0; call < warmup + calls; call++) {
    const step = 1_000_000 + call;
    const [sent, received] = await Promise.all([
      ring.procs[0].send({ cmd: "p2pSend", step, bytes, chunkBytes, window }),
      ring.procs[1].send({ cmd: "p2pReceive", step, bytes, chunkBytes }),
    ]);
    if (!sent.ok || !received.ok) {
      throw new Error(`Point-to-point failed: ${sent.error ?? received.error}`);
    }
    if (call >= warmup) times.push((sent.ms as number) / 1000);
  }
  const seconds = median(times);
  return {
    what: "one stream of chunk messages from one process to another, until delivered",
    seconds_each: times.map((t) => round(t, 5)),
    seconds_median: round(seconds, 5),
    GBps: round(bytes / seconds / 1e9, 4),
  };
}
