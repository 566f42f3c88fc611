/**
 * `deno task bench compiler`: time to build, serialise and load (onnxruntime session creation) the
 * train-step graph of the 12-layer, 768-wide GPT-2 shape. Target: under 2 s in all.
 */
import { parseArgs } from "node:util";
import { buildTrainStepGraph, GptConfig, presets } from "../model/gpt/mod.ts";
import { createSession } from "../model/runtime.ts";

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      repeats: { type: "string", default: "3" },
      precision: { type: "string", default: "fp32" },
    },
  });
  const cfg = GptConfig.parse(presets.gpt2);
  const precision = values.precision === "fp16" ? "fp16" : "fp32";
  const runs: Record<
    "build_ms" | "serialise_ms" | "load_ms" | "total_ms" | "nodes" | "model_bytes",
    number
  >[] = [];
  for (let i = 0; i < Number(values.repeats); i++) {
    const t0 = performance.now();
    const graph = buildTrainStepGraph(cfg, { microBatch: 8, precision });
    const t1 = performance.now();
    const bytes = graph.toModel();
    const t2 = performance.now();
    const session = await createSession(bytes, { threads: 2 });
    const t3 = performance.now();
    await session.release();
    runs.push({
      build_ms: t1 - t0,
      serialise_ms: t2 - t1,
      load_ms: t3 - t2,
      total_ms: t3 - t0,
      nodes: graph.nodes.length,
      model_bytes: bytes.length,
    });
  }
  const median = (key: keyof (typeof runs)[0]) =>
    runs.map((r) => r[key]).sort((a, b) => a - b)[runs.length >> 1];
  console.log(JSON.stringify(
    {
      benchmark: "compiler",
      model: {
        preset: "gpt2",
        layers: cfg.layers,
        width: cfg.width,
        vocab: cfg.vocabSize,
        microBatch: 8,
        precision,
      },
      median: {
        build_ms: median("build_ms"),
        serialise_ms: median("serialise_ms"),
        load_ms: median("load_ms"),
        total_ms: median("total_ms"),
      },
      target_total_ms: 2000,
      runs,
    },
    null,
    2,
  ));
}
