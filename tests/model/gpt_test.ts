/** The GPT's embeddings and parameters against closed forms and independent computations. */
import assert from "node:assert/strict";
import {
  buildTrainStepGraph,
  countParams,
  float32Ops,
  GptConfig,
  initParams,
  paramSpecs,
  presets,
  sinusoidalTable,
  TrainStep,
} from "../../model/gpt/mod.ts";
import { Rng } from "../../model/optim/mod.ts";

const small = (over: Partial<GptConfig> = {}) =>
  GptConfig.parse({ vocabSize: 50, contextLength: 8, layers: 2, heads: 2, width: 16, ...over });

Deno.test("the sinusoidal table matches sin/cos of p / 10000^(2i/d)", () => {
  const d = 16, n = 40;
  const table = sinusoidalTable(n, d);
  let worst = 0;
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < d / 2; i++) {
      const angle = p * Math.exp(-Math.log(10000) * (2 * i) / d);
      worst = Math.max(
        worst,
        Math.abs(table[p * d + 2 * i] - Math.sin(angle)),
        Math.abs(table[p * d + 2 * i + 1] - Math.cos(angle)),
      );
    }
  }
  console.log(`sinusoidal table: max |difference| from the closed form ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-6);
});

Deno.test("a sinusoidal model has no learned position table and stores the fixed one in the graph", () => {
  const cfg = small({ positional: "sinusoidal" });
  assert.ok(!paramSpecs(cfg).some((s) => s.name === "transformer.wpe.weight"));
  const g = buildTrainStepGraph(cfg, { microBatch: 1, precision: "fp32" });
  const init = g.initializers.find((i) => i.value.name === "sinusoidal_positions");
  assert.ok(init, "the graph holds the sinusoidal table");
  assert.deepEqual(init.data, sinusoidalTable(cfg.contextLength, cfg.width));
});

Deno.test("tying shares one tensor: its gradient is the embedding's plus the head's of an untied twin", async () => {
  const tied = small(), untied = small({ tieEmbeddings: false });
  assert.ok(!paramSpecs(tied).some((s) => s.name === "lm_head.weight"));
  const rng = new Rng(3);
  const weights = initParams(untied, () => rng.normal());
  weights.set("lm_head.weight", weights.get("transformer.wte.weight")!.slice());
  const ids = BigInt64Array.from({ length: 8 }, (_, i) => BigInt((i * 7) % 50));
  const targets = BigInt64Array.from({ length: 8 }, (_, i) => BigInt((i * 3 + 1) % 50));

  const run = async (cfg: GptConfig) => {
    const step = await TrainStep.create(cfg, { microBatch: 1, precision: "fp32" }, { threads: 1 });
    const flat = new Float32Array(step.size);
    step.specs.forEach((s, i) => flat.set(weights.get(s.name)!, step.offsets[i]));
    const grads = new Float32Array(step.size);
    const loss = await step.accumulate(flat, ids, targets, 1, grads);
    return { loss, grad: (name: string) => step.view(grads, name) };
  };
  const a = await run(tied), b = await run(untied);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `same function, losses ${a.loss} vs ${b.loss}`);
  const wte = a.grad("transformer.wte.weight");
  const sum = b.grad("transformer.wte.weight").map((g, i) => g + b.grad("lm_head.weight")[i]);
  const worst = wte.reduce((m, g, i) => Math.max(m, Math.abs(g - sum[i])), 0);
  assert.ok(worst < 1e-6, `tied gradient differs from the sum by ${worst}`);
});

Deno.test("init: N(0, 0.02) matrices, residual projections scaled by 1/√(2·layers), zero biases, unit gains", () => {
  const cfg = GptConfig.parse(presets.tiny);
  const rng = new Rng(11);
  const w = initParams(cfg, () => rng.normal());
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  const wte = std(w.get("transformer.wte.weight")!);
  const proj = std(w.get("transformer.h.0.mlp.c_proj.weight")!);
  console.log(`std wte ${wte.toFixed(5)}, residual projection ${proj.toFixed(5)}`);
  assert.ok(Math.abs(wte - 0.02) < 0.0005);
  assert.ok(Math.abs(proj - 0.02 / Math.sqrt(2 * cfg.layers)) < 0.0005);
  assert.ok(w.get("transformer.h.0.attn.c_attn.bias")!.every((x) => x === 0));
  assert.ok(w.get("transformer.ln_f.weight")!.every((x) => x === 1));
});

Deno.test("the gpt2 preset has GPT-2 small's 124,439,808 parameters", () => {
  assert.equal(countParams(GptConfig.parse(presets.gpt2)).total, 124_439_808);
});

Deno.test("a config whose width does not split into heads is refused, naming the field", () => {
  const r = GptConfig.safeParse({ vocabSize: 10, width: 10, heads: 3 });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0].path, ["width"]);
});

Deno.test("an fp16 step computes in fp16 except the loss and its gradient", () => {
  const ops = float32Ops(buildTrainStepGraph(small(), { microBatch: 1, precision: "fp16" }));
  console.log(`fp16 train step, ops in float32: ${JSON.stringify(ops)}`);
  assert.ok(ops.SoftmaxCrossEntropyLoss === 1, "the loss runs in float32");
  assert.equal(ops.MatMul, undefined, "no MatMul runs in float32");
  assert.equal(ops.Gelu, undefined);
  assert.equal(ops.LayerNormalization, undefined);
  assert.deepEqual(
    float32Ops(buildTrainStepGraph(small(), { microBatch: 1, precision: "fp32" })).MatMul > 0,
    true,
  );
});
