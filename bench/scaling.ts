/**
 * `deno task bench scaling [--hosts 2,3,4] [--links 1gbit,10gbit,25gbit] [--wires fp32,fp16-grad]
 * [--elements 10000000] [--calls 5] [--presets small,gpt2] [--plots DIR] [--no-peer]`
 *
 * The scaling model of docs/scaling.md (worker/collective/scaling_model.ts), fitted and checked
 * here. On emulated hosts (network namespaces, tc-shaped links; see emulated_hosts.ts):
 * 1. on an unshaped link, 2 hosts: the fastest of several tiny all-reduces (latency) and of several
 *    large ones (the ring's own processing per byte) fit the model's two constants, per wire;
 * 2. on each shaped link and host count: the all-reduce measured, next to the model's prediction
 *    (emulated hosts share this machine's cores, which the prediction accounts for) and gloo's
 *    measured time on the same namespaces and links;
 * 3. one training step of each preset measured on this machine (compute), then tokens/s predicted
 *    for 2 to 64 hosts on 1, 10 and 100 Gbit/s, each host its own machine like this one.
 * `--plots DIR` writes scaling_allreduce.svg (predicted against measured) and scaling_tokens.svg.
 * Prints one JSON object; asserts nothing about time.
 */
import { parseArgs } from "node:util";
import { GptConfig, presets } from "../model/gpt/mod.ts";
import { lineChartSvg, type LineSeries, PALETTE } from "../model/plot/mod.ts";
import { TrainConfig, Trainer } from "../model/train/mod.ts";
import {
  allReduceSeconds,
  EmulatedHosts,
  emulatedHostsUnavailable,
  fitRingCosts,
  parseRate,
  type RingCosts,
  spawnProbeRing,
  stepPrediction,
  WIRE_BYTES,
} from "../worker/collective/mod.ts";
import {
  glooArgs,
  glooFigures,
  measure,
  type Settings,
  type Variant,
  VARIANTS,
} from "./allreduce.ts";
import { runPeerRanks } from "./_peer.ts";
import { median, round } from "./_stats.ts";

/** Runs the benchmark and prints its JSON. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      hosts: { type: "string", default: "2,3,4" },
      links: { type: "string", default: "1gbit,10gbit,25gbit" },
      wires: { type: "string", default: "fp32,fp16-grad" },
      elements: { type: "string", default: "10000000" },
      calls: { type: "string", default: "5" },
      presets: { type: "string", default: "small,gpt2" },
      plots: { type: "string" },
      "no-peer": { type: "boolean", default: false },
    },
  });
  const why = await emulatedHostsUnavailable();
  if (why) throw new Error(`bench scaling needs emulated hosts: ${why}`);
  const hostCounts = values.hosts.split(",").map(Number);
  const links = values.links.split(",");
  const wires = values.wires.split(",").filter((w): w is Variant => w in VARIANTS);
  const s: Settings = {
    elements: Number(values.elements),
    chunkBytes: 2 * 1024 * 1024,
    window: 16,
    warmup: 2,
    calls: Number(values.calls),
  };
  const cores = navigator.hardwareConcurrency;
  await using hosts = await EmulatedHosts.create(Math.max(...hostCounts));
  const costs = await fitCosts(hosts, wires, s);
  const checks = await checkModel(
    hosts,
    hostCounts,
    links,
    wires,
    s,
    costs,
    cores,
    !values["no-peer"],
  );
  const compute = [];
  for (const preset of values.presets.split(",") as ("small" | "gpt2")[]) {
    compute.push(await computeSeconds(preset));
  }
  const predictions = predict(compute, costs);
  if (values.plots) await plot(values.plots, s.elements * 4, checks, predictions);
  console.log(JSON.stringify(
    {
      bench: "scaling",
      model:
        "T_step = T_compute + 2(H-1)·hop + 2(H-1)/H · bytes · max(8/link_bits_per_s, cpu_s_per_byte)",
      elements: s.elements,
      cores,
      ring_costs: costs,
      allreduce_check: checks,
      compute,
      predictions,
    },
    null,
    2,
  ));
}

/** Per wire: the model's constants from a tiny and a large all-reduce on 2 hosts, unshaped. */
async function fitCosts(
  hosts: EmulatedHosts,
  wires: Variant[],
  s: Settings,
): Promise<Record<string, RingCosts>> {
  await hosts.shape({});
  await using ring = await spawnProbeRing(2, { job: "scaling", transport: "tcp", hosts });
  const costs: Record<string, RingCosts> = {};
  for (const [w, wire] of wires.entries()) {
    const tiny = await measure(ring, 2, wire, 100 + w, { ...s, elements: 256, calls: 21 }, false);
    const large = await measure(ring, 2, wire, 200 + w, s, false);
    const bytes = s.elements * WIRE_BYTES[VARIANTS[wire].wire];
    // The fastest call of each: the ring's own cost, least disturbed by whatever else runs on
    // this shared machine (the checks below compare medians with it).
    const fastest = (row: Record<string, unknown>) => Math.min(...(row.seconds_each as number[]));
    costs[wire] = fitRingCosts(2, fastest(tiny), bytes, fastest(large));
  }
  return costs;
}

/** Measured against predicted all-reduce seconds on each link and host count, gloo beside. */
async function checkModel(
  hosts: EmulatedHosts,
  hostCounts: number[],
  links: string[],
  wires: Variant[],
  s: Settings,
  costs: Record<string, RingCosts>,
  cores: number,
  peer: boolean,
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const link of links) {
    await hosts.shape({ rate: link });
    for (const h of hostCounts) {
      await using ring = await spawnProbeRing(h, { job: "scaling", transport: "tcp", hosts });
      for (const [w, wire] of wires.entries()) {
        const got = await measure(ring, h, wire, 300 + w, s, false);
        const predicted = allReduceSeconds({
          ...costs[wire],
          hosts: h,
          bytes: s.elements * WIRE_BYTES[VARIANTS[wire].wire],
          linkBitsPerSec: parseRate(link),
          sharedCores: cores,
        });
        rows.push({
          link,
          hosts: h,
          wire,
          measured_s: got.seconds_median,
          predicted_s: round(predicted, 5),
          measured_over_predicted: round((got.seconds_median as number) / predicted, 3),
        });
      }
      await ring.close();
      if (peer) {
        const prefixes = Array.from({ length: h }, (_, r) => hosts.command(r));
        const gloo = glooFigures(
          await runPeerRanks(prefixes, `${hosts.hosts[0].address}:29500`, glooArgs(h, s)),
        );
        rows.push({ link, hosts: h, wire: "gloo fp32", measured_s: gloo.seconds_median });
      }
    }
  }
  return rows;
}

/** One host's step of `preset` on this machine: micro-batch 8 (gpt2: 1) × context, fp32. */
async function computeSeconds(preset: "small" | "gpt2"): Promise<Record<string, unknown>> {
  const model = GptConfig.parse(presets[preset]);
  const microBatch = preset === "gpt2" ? 1 : 8;
  const steps = 3;
  const trainer = await Trainer.create({
    model,
    train: TrainConfig.parse({ microBatch, steps, warmupSteps: 1, evalEvery: 0 }),
    trainTokens: Uint16Array.from(
      { length: 4 * model.contextLength * microBatch },
      (_, i) => (i * 7919) % model.vocabSize,
    ),
    tokenizerJson: "{}",
  });
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const started = performance.now();
    await trainer.trainStep();
    if (i > 0) times.push((performance.now() - started) / 1000);
  }
  return {
    preset,
    micro_batch: microBatch,
    tokens_per_step: microBatch * model.contextLength,
    gradient_elements: trainer.params.length,
    compute_s: round(median(times), 3),
  };
}

const PREDICT_HOSTS = [1, 2, 4, 8, 16, 32, 64];
const PREDICT_LINKS = ["1gbit", "10gbit", "100gbit"];

/** tokens/s for each preset, link and host count, each host a machine like this one. */
function predict(
  compute: Record<string, unknown>[],
  costs: Record<string, RingCosts>,
): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const c of compute) {
    for (const [wire, cost] of Object.entries(costs)) {
      const bytes = (c.gradient_elements as number) *
        WIRE_BYTES[VARIANTS[wire as Variant].wire];
      for (const link of PREDICT_LINKS) {
        const points = PREDICT_HOSTS.map((h) => {
          const p = stepPrediction({
            ...cost,
            hosts: h,
            bytes,
            linkBitsPerSec: parseRate(link),
            computeSeconds: c.compute_s as number,
            tokensPerHost: c.tokens_per_step as number,
          });
          return {
            hosts: h,
            tokens_per_s: round(p.tokensPerSec, 1),
            allreduce_s: round(p.allReduceSeconds, 4),
            efficiency: round(p.efficiency, 3),
          };
        });
        rows.push({ preset: c.preset, wire, link, points });
      }
    }
  }
  return rows;
}

/** The two SVG plots of docs/scaling.md. */
async function plot(
  dir: string,
  bytes: number,
  checks: Record<string, unknown>[],
  predictions: Record<string, unknown>[],
): Promise<void> {
  const series: LineSeries[] = [];
  const shown = checks.filter((r) => r.wire === "fp32" || r.wire === "gloo fp32");
  const keys = [...new Set(shown.map((r) => `${r.link} ${r.wire}`))];
  keys.forEach((key, k) => {
    const rows = shown.filter((r) => `${r.link} ${r.wire}` === key);
    const color = PALETTE[k % PALETTE.length];
    if (rows[0].predicted_s !== undefined) {
      const points = rows.map((r) => [r.hosts, r.predicted_s] as [number, number]);
      series.push({ name: `${key} predicted`, points, color });
    }
    // Measured points stand alone: NaN between them breaks the line into dots.
    const points = rows.flatMap((r) => [[r.hosts, r.measured_s], [NaN, NaN]] as [number, number][]);
    series.push({ name: `${key} measured`, points, color });
  });
  await Deno.writeTextFile(
    `${dir}/scaling_allreduce.svg`,
    lineChartSvg({
      title: `All-reduce of ${
        bytes / 1e6
      } MB fp32 on emulated hosts: model (lines), measured (dots)`,
      xLabel: "hosts",
      yLabel: "seconds",
      series,
      logY: true,
      width: 900,
      height: 520,
    }),
  );
  const tokenSeries = predictions.filter((p) => p.wire === "fp32").map((p) => ({
    name: `${p.preset}, ${p.link}`,
    points: (p.points as { hosts: number; tokens_per_s: number }[]).map((q) =>
      [q.hosts, q.tokens_per_s] as [number, number]
    ),
  }));
  await Deno.writeTextFile(
    `${dir}/scaling_tokens.svg`,
    lineChartSvg({
      title: "Predicted training tokens/s, each host like this 2-core machine, fp32 wire",
      xLabel: "hosts",
      yLabel: "tokens/s",
      series: tokenSeries,
      logY: true,
    }),
  );
}
