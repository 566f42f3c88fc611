import assert from "node:assert/strict";
import {
  AdamW,
  clipGradNorm,
  decaysByShape,
  globalNorm,
  hasInfOrNaN,
  LossScaler,
  lrAt,
  Rng,
} from "../../model/optim/mod.ts";

/** AdamW from the paper's formulas with bias-corrected moments, in float64, written independently. */
function adamwReference(
  p0: number[],
  grads: number[][],
  lrs: number[],
  o: { b1: number; b2: number; eps: number; wd: number },
): number[] {
  let p = [...p0];
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1, lr = lrs[k];
    p = p.map((x) => x - lr * o.wd * x);
    m = m.map((x, i) => o.b1 * x + (1 - o.b1) * g[i]);
    v = v.map((x, i) => o.b2 * x + (1 - o.b2) * g[i] ** 2);
    const mHat = m.map((x) => x / (1 - o.b1 ** t));
    const vHat = v.map((x) => x / (1 - o.b2 ** t));
    p = p.map((x, i) => x - lr * mHat[i] / (Math.sqrt(vHat[i]) + o.eps));
  });
  return p;
}

Deno.test("AdamW matches a float64 reference over 3 steps, decaying only flagged parameters", () => {
  const o = { b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1 };
  const w0 = [0.5, -0.25, 1.5, 0.003];
  const b0 = [0.1, -0.2];
  const gw = [[0.1, -0.2, 0.3, 0.0004], [-0.05, 0.1, 0.2, -1], [0.3, 0.3, -0.1, 2]];
  const gb = [[1, -1], [0.5, 0.25], [-0.125, 2]];
  const lrs = [1e-2, 5e-3, 2.5e-3];
  const w = new Float32Array(w0), b = new Float32Array(b0);
  const opt = new AdamW([
    { name: "w", data: w, decay: true },
    { name: "b", data: b, decay: false },
  ], { beta1: o.b1, beta2: o.b2, eps: o.eps, weightDecay: o.wd });
  for (let k = 0; k < 3; k++) {
    opt.step(new Map([["w", new Float32Array(gw[k])], ["b", new Float32Array(gb[k])]]), lrs[k]);
  }
  const wantW = adamwReference(w0, gw, lrs, o);
  const wantB = adamwReference(b0, gb, lrs, { ...o, wd: 0 });
  let maxRel = 0;
  [...w].forEach((x, i) => maxRel = Math.max(maxRel, Math.abs(x - wantW[i]) / Math.abs(wantW[i])));
  [...b].forEach((x, i) => maxRel = Math.max(maxRel, Math.abs(x - wantB[i]) / Math.abs(wantB[i])));
  console.log(`AdamW vs float64 reference: max relative difference ${maxRel.toExponential(2)}`);
  assert.ok(maxRel < 1e-6, `max relative difference ${maxRel}`);
  assert.equal(opt.stepCount, 3);
});

Deno.test("AdamW's first step moves each weight by lr against its gradient's sign, after decay", () => {
  const w = new Float32Array([1, 1, -2]);
  const opt = new AdamW([{ name: "w", data: w, decay: true }], { weightDecay: 0.5 });
  opt.step(new Map([["w", new Float32Array([3, -1e-3, 7])]]), 0.1);
  // m̂ = g and v̂ = g², so the Adam step is lr·g/|g| (up to eps); decay first multiplies by 0.95.
  const want = [0.95 - 0.1, 0.95 + 0.1, -1.9 - 0.1];
  [...w].forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-5, `${x} vs ${want[i]}`));
});

Deno.test("AdamW state exported after 2 steps and imported elsewhere continues bit-identically", () => {
  const grads = [1, 2, 3].map((k) => new Map([["w", new Float32Array([k * 0.1, -k, 1 / k])]]));
  const a = new Float32Array([0.3, 0.2, 0.1]);
  const straight = new AdamW([{ name: "w", data: a, decay: true }]);
  grads.forEach((g, k) => straight.step(g, 1e-3 * (k + 1)));

  const b = new Float32Array([0.3, 0.2, 0.1]);
  const first = new AdamW([{ name: "w", data: b, decay: true }]);
  first.step(grads[0], 1e-3);
  first.step(grads[1], 2e-3);
  const saved = first.exportState();
  const resumedWeights = b.slice();
  const resumed = new AdamW([{ name: "w", data: resumedWeights, decay: true }]);
  resumed.importState(saved);
  resumed.step(grads[2], 3e-3);
  assert.deepEqual(new Uint32Array(resumedWeights.buffer), new Uint32Array(a.buffer));
  assert.throws(
    () => resumed.importState({ step: 1, m: new Map(), v: new Map() }),
    /w: Optimizer state lacks "m"/,
  );
  assert.throws(() => resumed.step(new Map(), 1e-3), /w: No gradient/);
});

Deno.test("decay applies to matrices and embeddings, not to biases and LayerNorm", () => {
  assert.equal(decaysByShape([768, 2304]), true);
  assert.equal(decaysByShape([50257, 768]), true);
  assert.equal(decaysByShape([2304]), false);
  assert.equal(decaysByShape([768]), false);
});

Deno.test("learning rate: linear warmup to lr, cosine to minLr at totalSteps, minLr after", () => {
  const s = { lr: 6e-4, warmupSteps: 10, totalSteps: 110, minLr: 6e-5 };
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);
  close(lrAt(0, s), 6e-5);
  close(lrAt(4, s), 3e-4);
  assert.equal(lrAt(9, s), 6e-4);
  assert.equal(lrAt(10, s), 6e-4);
  close(lrAt(60, s), 3.3e-4); // midpoint: the mean of lr and minLr
  close(lrAt(35, s), 6e-5 + 0.5 * (1 + Math.SQRT1_2) * 5.4e-4); // a quarter of the way
  assert.equal(lrAt(110, s), 6e-5);
  assert.equal(lrAt(1000, s), 6e-5);
  for (let t = 10; t < 110; t++) assert.ok(lrAt(t + 1, s) <= lrAt(t, s));
  assert.equal(lrAt(0, { ...s, warmupSteps: 0 }), 6e-4);
  assert.throws(() => lrAt(0, { ...s, totalSteps: 5 }), RangeError);
  assert.throws(() => lrAt(0, { ...s, minLr: 1 }), RangeError);
});

Deno.test("global-norm clipping spans buffers, accumulates in float64 and returns the norm", () => {
  const a = new Float32Array([3]), b = new Float32Array([0, 4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  assert.ok(Math.abs(globalNorm([a, b]) - 1) < 1e-6);
  assert.ok(Math.abs(a[0] / b[1] - 0.75) < 1e-7, "direction kept");
  const small = new Float32Array([0.3, 0.4]);
  assert.equal(clipGradNorm([small], 1), Math.hypot(Math.fround(0.3), Math.fround(0.4)));
  assert.deepEqual([...small], [Math.fround(0.3), Math.fround(0.4)], "under the limit: untouched");
  // 1e8 + 1000·1 is exact in float64 but fp32 accumulation would lose every 1 (spacing 8 at 1e8).
  const big = new Float32Array(1001).fill(1);
  big[0] = 1e4;
  assert.equal(globalNorm([big]), Math.sqrt(1e8 + 1000));
  const nan = new Float32Array([1, NaN]);
  assert.ok(Number.isNaN(clipGradNorm([nan], 1)));
  assert.equal(nan[0], 1, "a non-finite norm leaves buffers alone");
});

Deno.test("loss scaler backs off by half on overflow and doubles after growthInterval clean steps", () => {
  const s = new LossScaler({ initScale: 1024, growthInterval: 3 });
  assert.equal(s.update(true), true);
  assert.equal(s.scale, 512);
  s.update(false);
  s.update(false);
  assert.equal(s.scale, 512);
  s.update(true); // an overflow restarts the count
  assert.equal(s.scale, 256);
  for (let i = 0; i < 3; i++) assert.equal(s.update(false), false);
  assert.equal(s.scale, 512);
  assert.deepEqual(s.exportState(), { scale: 512, goodSteps: 0 });
  const restored = new LossScaler({ growthInterval: 3 });
  restored.importState({ scale: 8, goodSteps: 2 });
  restored.update(false);
  assert.equal(restored.scale, 16);
  const floor = new LossScaler({ initScale: 1, minScale: 0.25 });
  for (let i = 0; i < 5; i++) floor.update(true);
  assert.equal(floor.scale, 0.25);
});

Deno.test("loss scaler finds inf and NaN in any buffer and unscales gradients", () => {
  assert.equal(hasInfOrNaN([new Float32Array([1, 2]), new Float32Array([-3])]), false);
  assert.equal(hasInfOrNaN([new Float32Array([1]), new Float32Array([0, Infinity])]), true);
  assert.equal(hasInfOrNaN([new Float32Array([-Infinity])]), true);
  assert.equal(hasInfOrNaN([new Float32Array([NaN])]), true);
  const s = new LossScaler({ initScale: 4 });
  assert.equal(s.hasInfOrNaN([new Float32Array([3.4e38])]), false);
  const g = new Float32Array([8, -2]);
  assert.equal(s.unscale([g]), false);
  assert.deepEqual([...g], [2, -0.5]);
  assert.equal(s.unscale([new Float32Array([1, NaN])]), true);
  // Injected overflow: the step is skipped and the scale halves.
  const grads = new Float32Array([1, Infinity]);
  const skip = s.update(s.unscale([grads]));
  assert.equal(skip, true);
  assert.equal(s.scale, 2);
});

const TORCH_ADAMW = `
import json, sys, torch
torch.set_num_threads(1)
spec = json.load(sys.stdin)
out = {}
for name, p in spec["params"].items():
    t = torch.tensor(p["init"], dtype=torch.float32, requires_grad=True)
    opt = torch.optim.AdamW([t], lr=1.0, betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"],
                            weight_decay=spec["wd"] if p["decay"] else 0.0)
    for lr, g in zip(spec["lrs"], p["grads"]):
        opt.param_groups[0]["lr"] = lr
        t.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    out[name] = t.detach().numpy().view("uint32").tolist()
print(json.dumps(out))
`;

Deno.test("AdamW is bit-identical to torch.optim.AdamW over 5 steps (skipped without torch)", async () => {
  // Debian's interpreter has python3-torch on this machine; elsewhere the test has nothing to run.
  const python = "/usr/bin/python3";
  const probe = await new Deno.Command(python, { args: ["-c", "import torch"], stderr: "null" })
    .output().catch(() => undefined);
  if (!probe?.success) return;
  const rng = new Rng(5);
  const n = 4096, lrs = [1e-3, 3e-3, 6e-4, 2e-3, 1e-4];
  const init = Array.from(rng.fillNormal(new Float32Array(n), 0, 0.5));
  const grads = lrs.map(() => Array.from(rng.fillNormal(new Float32Array(n), 0, 0.1)));
  const o = { beta1: 0.9, beta2: 0.95, eps: 1e-8, wd: 0.1 };
  const spec = {
    ...o,
    lrs,
    params: { w: { init, grads, decay: true }, b: { init, grads, decay: false } },
  };
  const child = new Deno.Command(python, {
    args: ["-c", TORCH_ADAMW],
    stdin: "piped",
    stdout: "piped",
    env: { OMP_NUM_THREADS: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(spec)));
  await writer.close();
  const result = await child.output();
  assert.ok(result.success, "torch reference ran");
  const torchBits = JSON.parse(new TextDecoder().decode(result.stdout));
  for (const [name, decay] of [["w", true], ["b", false]] as const) {
    const data = new Float32Array(init);
    const opt = new AdamW([{ name, data, decay }], {
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.wd,
    });
    grads.forEach((g, k) => opt.step(new Map([[name, new Float32Array(g)]]), lrs[k]));
    const ours = [...new Uint32Array(data.buffer)];
    const differing = ours.filter((b, i) => b !== torchBits[name][i]).length;
    console.log(`AdamW vs torch (${name}, decay ${decay}): ${differing} of ${n} elements differ`);
    assert.equal(differing, 0);
  }
});
