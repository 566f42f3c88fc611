/**
 * `deno task bench allreduce [--worlds 2,4] [--elements 10000000] [--chunk-bytes N] [--window N]
 * [--wires fp32,bf16] [--transports grpc,tcp,shm] [--warmup 2] [--calls 5] [--no-peer]
 * [--links 10gbit,25gbit [--per-host 1] [--delay 100us]]`
 *
 * Ring all-reduce (sum) of one buffer across real worker processes, measured as nccl-tests does:
 * per call the slowest rank's time, median over the timed calls, algBw = bytes / time,
 * busBw = algBw · 2(n − 1)/n, GB = 1e9 bytes. Next to it, in the same run, the peer,
 * `../shared/peers/torch_allreduce_bench.py allreduce` (gloo), on the same buffer size and the same
 * network (`--no-peer` skips it).
 *
 * Without `--links` every process runs on 127.0.0.1 (transports: `grpc` the peer service, `tcp` the
 * data plane with payloads on the socket, `shm` the same data plane with payloads in shared
 * segments, as ranks on one host use it), and one-way point-to-point throughput is measured too.
 *
 * With `--links`, each rate is a network of emulated hosts (Linux network namespaces joined by a
 * switch, every link shaped with `tc` to that rate both ways; see emulated_hosts.ts), `--per-host`
 * ranks in each; world sizes count ranks. Ours runs over the TCP data plane and gloo on the same
 * namespaces and links. With more than one rank per host, the hierarchical all-reduce is measured
 * beside the flat ring.
 *
 * Wires: `fp32`; `bf16` and `fp16`, an fp32 buffer converted chunk by chunk; `fp16-grad`, an fp16
 * buffer as the train-step graph produces gradients with a 16-bit wire (no conversion to send).
 * Every row counts 4 bytes an element (the fp32 gradient the caller reduces), though 16-bit rows
 * move half as many. Prints one JSON object; asserts nothing about time.
 */
import { parseArgs } from "node:util";
import { MAX_CHUNK_BYTES } from "../proto/mod.ts";
import {
  EmulatedHosts,
  emulatedHostsUnavailable,
  type ProbeRing,
  spawnProbeRing,
  Transport,
} from "../worker/collective/mod.ts";
import { runPeer, runPeerRanks } from "./_peer.ts";
import { median, round } from "./_stats.ts";

/** How each measured call is made. */
export interface Settings {
  elements: number;
  chunkBytes: number;
  window: number;
  warmup: number;
  calls: number;
}

/** A wire variant: the buffer's element type and the format on the wire. */
export const VARIANTS = {
  fp32: { buffer: "fp32", wire: "fp32" },
  bf16: { buffer: "fp32", wire: "bf16" },
  fp16: { buffer: "fp32", wire: "fp16" },
  "fp16-grad": { buffer: "fp16", wire: "fp16" },
} as const;
export type Variant = keyof typeof VARIANTS;

/** Runs the benchmark and prints its JSON. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      worlds: { type: "string", default: "2,4" },
      elements: { type: "string", default: "10000000" },
      "chunk-bytes": { type: "string", default: String(MAX_CHUNK_BYTES) },
      window: { type: "string", default: "16" },
      wires: { type: "string" },
      transports: { type: "string" },
      warmup: { type: "string", default: "2" },
      calls: { type: "string", default: "5" },
      "no-peer": { type: "boolean", default: false },
      links: { type: "string" },
      "per-host": { type: "string", default: "1" },
      delay: { type: "string" },
    },
  });
  const settings: Settings = {
    elements: positive(values.elements, "--elements"),
    chunkBytes: positive(values["chunk-bytes"], "--chunk-bytes"),
    window: positive(values.window, "--window"),
    warmup: Number(values.warmup),
    calls: positive(values.calls, "--calls"),
  };
  const worlds = values.worlds.split(",").map((w) => positive(w, "--worlds"));
  const links = values.links?.split(",");
  const wires = (values.wires ?? (links ? "fp32,bf16,fp16-grad" : "fp32,bf16")).split(",")
    .map(variant);
  const peer = !values["no-peer"];
  const common = { ...settings, bytes: settings.elements * 4 };
  const body = links
    ? await linkRuns(links, Number(values["per-host"]), values.delay, worlds, wires, settings, peer)
    : await loopbackRuns(
      (values.transports ?? "grpc,tcp,shm").split(",").map((t) => Transport.parse(t)),
      worlds,
      wires,
      settings,
      peer,
    );
  console.log(JSON.stringify(
    {
      bench: "allreduce",
      what: links
        ? "ring all-reduce between deno processes in emulated hosts (network namespaces) over " +
          "tc-shaped links, the TCP data plane; gloo on the same namespaces and links"
        : "ring all-reduce (reduce-scatter + all-gather) between deno processes on 127.0.0.1; " +
          "transport grpc = grpc-js peer service, tcp = the same chunk messages on a plain socket",
      ...common,
      time_definition: "per call the slowest rank's time; median of the timed calls",
      bw_definition: "algBw = bytes/median time; busBw = algBw*2(N-1)/N; GB = 1e9 bytes",
      cpu_definition:
        "cpu_ms_rank: CPU time (user + system, all threads) a rank's process spends " +
        "in a call, mean over ranks, median over calls (gloo's too, on emulated hosts)",
      ...body,
      deno: Deno.version.deno,
      cpus: navigator.hardwareConcurrency,
    },
    null,
    2,
  ));
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${flag} wants a positive integer, got "${text}"`);
  }
  return n;
}

function variant(name: string): Variant {
  if (!(name in VARIANTS)) {
    throw new RangeError(`--wires: "${name}" is not one of ${Object.keys(VARIANTS).join(", ")}`);
  }
  return name as Variant;
}

/** Every transport and world size on 127.0.0.1, point-to-point, and gloo over loopback. */
async function loopbackRuns(
  transports: Transport[],
  worlds: number[],
  wires: Variant[],
  settings: Settings,
  peer: boolean,
): Promise<Record<string, unknown>> {
  const allreduce: Record<string, unknown>[] = [];
  const p2p: Record<string, unknown>[] = [];
  for (const transport of transports) {
    for (const n of worlds) {
      await using ring = await spawnProbeRing(n, { job: "bench", transport });
      if (n >= 2 && !p2p.some((p) => p.transport === transport)) {
        p2p.push({ transport, ...await pointToPoint(ring, settings) });
      }
      for (const [w, wire] of wires.entries()) {
        allreduce.push({ transport, ...await measure(ring, n, wire, w, settings, false) });
      }
    }
  }
  // The peer: PyTorch's gloo all-reduce of the same buffer on the same world sizes, this run.
  const gloo: Record<string, unknown>[] = [];
  if (peer) {
    for (const n of worlds) {
      gloo.push({
        world: n,
        ...glooFigures(await runPeer("torch_allreduce_bench.py", glooArgs(n, settings))),
      });
    }
  }
  return { allreduce, point_to_point: p2p, peer_gloo: gloo, ratios: ratios(allreduce, gloo) };
}

/**
 * For each link rate: emulated hosts, our flat ring (and with several ranks a host the
 * hierarchical all-reduce) for each world size and wire, then gloo on the same hosts and links.
 */
async function linkRuns(
  links: string[],
  perHost: number,
  delay: string | undefined,
  worlds: number[],
  wires: Variant[],
  settings: Settings,
  peer: boolean,
): Promise<Record<string, unknown>> {
  const why = await emulatedHostsUnavailable();
  if (why) throw new Error(`--links needs emulated hosts: ${why}`);
  const bad = worlds.find((n) => n % perHost !== 0);
  if (bad) throw new RangeError(`--worlds: ${bad} ranks do not split into ${perHost} a host`);
  const hostOf = (rank: number) => Math.floor(rank / perHost);
  await using hosts = await EmulatedHosts.create(Math.max(...worlds) / perHost);
  const allreduce: Record<string, unknown>[] = [];
  const gloo: Record<string, unknown>[] = [];
  for (const link of links) {
    await hosts.shape(link === "none" ? {} : { rate: link, delay });
    for (const n of worlds) {
      const where = { link, delay: delay ?? null, hosts: n / perHost, per_host: perHost };
      // Shared memory between ranks of one host, the socket between hosts.
      const transport = perHost > 1 ? "shm" : "tcp";
      await using ring = await spawnProbeRing(n, { job: "bench", transport, hosts, hostOf });
      for (const [w, wire] of wires.entries()) {
        allreduce.push({ ...where, ...await measure(ring, n, wire, w, settings, false) });
      }
      if (perHost > 1) {
        await ring.hierarchy(hostOf, 1); // a new ring version, as when a ring re-forms
        for (const [w, wire] of wires.entries()) {
          allreduce.push({ ...where, ...await measure(ring, n, wire, 10 + w, settings, true) });
        }
      }
      await ring.close();
      if (peer) {
        const ranks = Array.from({ length: n }, (_, r) => hosts.command(hostOf(r)));
        const out = await runPeerRanks(
          ranks,
          `${hosts.hosts[0].address}:29500`,
          glooArgs(n, settings),
        );
        gloo.push({ ...where, world: n, ...glooFigures(out) });
      }
    }
  }
  return { allreduce, peer_gloo: gloo, ratios: ratios(allreduce, gloo) };
}

/** One row: `calls` timed all-reduces of `wire` after `warmup` untimed ones. */
export async function measure(
  ring: ProbeRing,
  n: number,
  wire: Variant,
  w: number,
  s: Settings,
  hierarchical: boolean,
): Promise<Record<string, unknown>> {
  const times: number[] = [];
  const cpus: number[] = [];
  let path: unknown;
  for (let call = 0; call < s.warmup + s.calls; call++) {
    const replies = await ring.all(() => ({
      cmd: "allreduce",
      length: s.elements,
      check: false,
      hierarchical,
      buffer: VARIANTS[wire].buffer,
      options: {
        chunkBytes: s.chunkBytes,
        window: s.window,
        wire: VARIANTS[wire].wire,
        step: w * 1000 + call,
      },
    }));
    const failed = replies.find((r) => r.failed || !r.ok);
    if (failed) throw new Error(`All-reduce failed: ${failed.error}`);
    if (new Set(replies.map((r) => r.sha256)).size !== 1) throw new Error("Ranks disagree");
    const paths = new Set(replies.map((r) => r.path));
    path = [...paths].sort().join("+");
    if (!hierarchical && !ring.emulated && path !== ring.transport) {
      throw new Error(`The ${ring.transport} row's payloads went by ${path}`);
    }
    if (call >= s.warmup) {
      times.push(Math.max(...replies.map((r) => (r.times as number[])[0])) / 1000);
      cpus.push(replies.reduce((a, r) => a + (r.cpuMs as number[])[0], 0) / replies.length);
    }
  }
  const seconds = median(times);
  const algBw = (s.elements * 4) / seconds / 1e9;
  return {
    ...(ring.transport === "grpc" ? {} : { path }),
    algorithm: hierarchical ? "hierarchical" : "ring",
    world: n,
    wire,
    seconds_each: times.map((t) => round(t, 5)),
    seconds_median: round(seconds, 5),
    cpu_ms_rank: round(median(cpus), 1),
    algBw_GBps: round(algBw, 4),
    busBw_GBps: round((algBw * 2 * (n - 1)) / n, 4),
  };
}

export function glooArgs(n: number, s: Settings): string[] {
  return [
    "allreduce",
    "--world",
    String(n),
    "--elements",
    String(s.elements),
    "--warmup",
    String(s.warmup),
    "--iters",
    String(s.calls),
  ];
}

export function glooFigures(peer: Record<string, unknown>): Record<string, unknown> {
  if (peer.unavailable) return peer;
  return {
    seconds_median: round(peer.seconds_median as number, 5),
    algBw_GBps: round(peer.alg_bw_GBps as number, 4),
    busBw_GBps: round(peer.bus_bw_GBps as number, 4),
    sum_correct: peer.sum_correct,
    ...(peer.cpu_ms_rank === undefined
      ? {}
      : { cpu_ms_rank: round(peer.cpu_ms_rank as number, 1) }),
  };
}

/** Each row's busBw over gloo's on the same world size (and link) of this run. */
function ratios(
  allreduce: Record<string, unknown>[],
  gloo: Record<string, unknown>[],
): Record<string, unknown>[] {
  return allreduce.map((r) => {
    const peer = gloo.find((g) => g.world === r.world && g.link === r.link && g.busBw_GBps);
    const { transport, link, world, algorithm, wire } = r;
    return {
      ...(transport ? { transport } : { link }),
      world,
      algorithm,
      wire,
      busBw_vs_gloo: peer ? round((r.busBw_GBps as number) / (peer.busBw_GBps as number), 3) : null,
    };
  });
}

/** One-way streaming throughput, rank 0 to rank 1, with the same chunk messages and transport. */
async function pointToPoint(ring: ProbeRing, s: Settings): Promise<Record<string, unknown>> {
  const bytes = s.elements * 4;
  const times: number[] = [];
  for (let call = 0; call < s.warmup + s.calls; call++) {
    const step = 1_000_000 + call;
    const [sent, received] = await Promise.all([
      ring.procs[0].send({
        cmd: "p2pSend",
        step,
        bytes,
        chunkBytes: s.chunkBytes,
        window: s.window,
      }),
      ring.procs[1].send({ cmd: "p2pReceive", step, bytes, chunkBytes: s.chunkBytes }),
    ]);
    if (!sent.ok || !received.ok) {
      throw new Error(`Point-to-point failed: ${sent.error ?? received.error}`);
    }
    if (call >= s.warmup) times.push((sent.ms as number) / 1000);
  }
  const seconds = median(times);
  return {
    what: "one stream of chunk messages from one process to another, until delivered",
    seconds_each: times.map((t) => round(t, 5)),
    seconds_median: round(seconds, 5),
    GBps: round(bytes / seconds / 1e9, 4),
  };
}
