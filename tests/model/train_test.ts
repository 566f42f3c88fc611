/**
 * The trainer's numbers that define correct: learning on real text, gradient accumulation,
 * bit-exact resume, fp16 loss scaling, and bf16 refused on CPU.
 */
import assert from "node:assert/strict";
import { loadCheckpoint, saveCheckpoint } from "../../model/checkpoint/mod.ts";
import { drawDropoutMasks, GptConfig, presets } from "../../model/gpt/mod.ts";
import { byteTokenizer, toTokenizerJson } from "../../model/tokenizer/mod.ts";
import { TrainConfig, Trainer, type TrainerInit } from "../../model/train/mod.ts";

/** Real English prose that every Debian system ships: the GPL and Apache licence texts. */
function realText(): string {
  return ["GPL-3", "Apache-2.0", "LGPL-3", "MPL-2.0"]
    .map((name) => Deno.readTextFileSync(`/usr/share/common-licenses/${name}`))
    .join("\n");
}

const tok = byteTokenizer();
const tokens = Uint16Array.from(tok.encode(realText()));
const tokenizerJson = JSON.stringify(toTokenizerJson(tok));

/** A small model: the tiny preset's shape at a byte vocabulary and a short context. */
function init(train: Partial<TrainConfig>, model: Partial<GptConfig> = {}): TrainerInit {
  return {
    model: GptConfig.parse({
      ...presets.tiny,
      vocabSize: tok.vocabSize,
      contextLength: 32,
      ...model,
    }),
    train: TrainConfig.parse({ microBatch: 4, steps: 20, warmupSteps: 2, evalEvery: 0, ...train }),
    trainTokens: tokens,
    valTokens: tokens.subarray(tokens.length - 4096),
    tokenizerJson,
    threads: 1,
  };
}

function unigramEntropyNats(ids: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}

Deno.test("loss on real text falls well below the unigram entropy within a few hundred tiny steps", async () => {
  const trainer = await Trainer.create(
    init({ steps: 200, lr: 3e-3, warmupSteps: 10, microBatch: 8 }, { contextLength: 64 }),
  );
  const losses: number[] = [];
  while (trainer.step < trainer.train.steps) losses.push((await trainer.trainStep()).loss);
  const last = losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
  const unigram = unigramEntropyNats(tokens);
  const val = (await trainer.evaluate())!;
  console.log(
    `unigram entropy ${unigram.toFixed(3)} nats; train loss ${last.toFixed(3)}, val ${
      val.toFixed(3)
    }`,
  );
  assert.ok(
    last < unigram - 0.4,
    `train loss ${last} is not well below the unigram entropy ${unigram}`,
  );
  assert.ok(
    val < unigram - 0.3,
    `validation loss ${val} is not well below the unigram entropy ${unigram}`,
  );
});

// Dropout masks are drawn per sample from the run's seed, so neither the split of a batch nor a
// resume changes them: both properties hold with dropout as they do without.
for (const dropout of [0, 0.1]) {
  Deno.test(`k micro-batches of b sequences give the same weights as one batch of k·b (dropout ${dropout})`, async () => {
    const accumulated = await Trainer.create(init({ microBatch: 2, gradAccum: 4 }, { dropout }));
    const whole = await Trainer.create(init({ microBatch: 8, gradAccum: 1 }, { dropout }));
    const before = whole.params.slice();
    const a = await accumulated.trainStep();
    const b = await whole.trainStep();
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * b.loss, `losses ${a.loss} vs ${b.loss}`);
    const ga = accumulated.lastGradient, gb = whole.lastGradient;
    const gmax = gb.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const gdiff = ga.reduce((m, x, i) => Math.max(m, Math.abs(x - gb[i])), 0) / gmax;
    // Adam's first step moves each weight by lr·g/(|g|+ε): where |g| is within a few ε the update
    // amplifies fp32 rounding, whatever the batching. Weights are compared where |g| > 1e-5.
    let wdiff = 0, excluded = 0;
    for (let i = 0; i < gb.length; i++) {
      if (Math.abs(gb[i]) <= 1e-5) {
        excluded++;
        continue;
      }
      const update = Math.abs(whole.params[i] - before[i]);
      wdiff = Math.max(
        wdiff,
        Math.abs(accumulated.params[i] - whole.params[i]) /
          Math.max(update, Math.abs(whole.params[i])),
      );
    }
    console.log(
      `gradient max diff ${gdiff.toExponential(2)} of max |g|; weights max rel diff ${
        wdiff.toExponential(2)
      } (${excluded} of ${gb.length} with |g| ≤ 1e-5 skipped)`,
    );
    assert.ok(gdiff < 1e-5, `gradients differ by ${gdiff} of the largest`);
    assert.ok(wdiff < 1e-5, `weights differ by ${wdiff}`);
  });

  Deno.test(`a run resumed from a checkpoint ends bit-identical to an uninterrupted one (dropout ${dropout})`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const straight = await Trainer.create(init({ steps: 6, gradAccum: 2 }, { dropout }));
      while (straight.step < 6) await straight.trainStep();

      const first = await Trainer.create(init({ steps: 6, gradAccum: 2 }, { dropout }));
      while (first.step < 3) await first.trainStep();
      await saveCheckpoint(`${dir}/checkpoints`, await first.checkpointContents());
      const resumed = await Trainer.create(init({ steps: 6, gradAccum: 2 }, { dropout }));
      resumed.restore(await loadCheckpoint(dir));
      assert.equal(resumed.step, 3);
      while (resumed.step < 6) await resumed.trainStep();

      assert.equal(resumed.dataPosition, straight.dataPosition);
      assert.deepEqual(
        new Uint32Array(resumed.params.buffer),
        new Uint32Array(straight.params.buffer),
        "resumed weights differ from the uninterrupted run",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("dropout drops its ratio of each sample's activations, the same ones for the same sample and seed", async () => {
  const p = 0.25, rows = 3, per = 4000;
  const draw = (seed: number, samples: number[]) => {
    const masks = [new Uint8Array(rows * per), new Uint8Array(rows * per)];
    drawDropoutMasks(masks, p, seed, samples);
    return masks;
  };
  const [a0, a1] = draw(7, [10, 11, 12]);
  const dropped = a0.filter((k) => !k).length / a0.length;
  assert.ok(Math.abs(dropped - p) < 0.02, `dropped ${dropped}, expected about ${p}`);
  // Sample 11 in another row of another micro-batch gets the same masks at every site.
  const [b0, b1] = draw(7, [11, 99, 98]);
  assert.deepEqual(b0.subarray(0, per), a0.subarray(per, 2 * per));
  assert.deepEqual(b1.subarray(0, per), a1.subarray(per, 2 * per));
  assert.notDeepEqual(a0.subarray(0, per), a1.subarray(0, per), "each site draws its own mask");
  const [c0] = draw(8, [10, 11, 12]);
  assert.notDeepEqual(c0, a0, "another seed draws other masks");

  // In the train step: dropout changes the loss and the gradient of the same batch.
  const plain = await Trainer.create(init({ microBatch: 4 }));
  const dropped01 = await Trainer.create(init({ microBatch: 4 }, { dropout: 0.1 }));
  const [lp, ld] = [await plain.trainStep(), await dropped01.trainStep()];
  assert.notEqual(lp.loss, ld.loss);
});

Deno.test("fp16: an injected overflow skips the step and halves the loss scale", async () => {
  const trainer = await Trainer.create(init({ precision: "fp16" }));
  const before = trainer.params.slice();
  const m = await trainer.trainStep(undefined, true);
  assert.equal(m.skipped, true);
  assert.equal(m.loss_scale, 32768);
  assert.deepEqual(trainer.params, before, "a skipped step must not change the weights");
  const next = await trainer.trainStep();
  assert.equal(next.skipped, false);
  assert.notDeepEqual(trainer.params, before);
});

Deno.test("fp16 training stays within a few percent of the fp32 loss curve", async () => {
  const curve = async (precision: "fp32" | "fp16") => {
    const trainer = await Trainer.create(
      init({ precision, steps: 40, microBatch: 8, warmupSteps: 10 }),
    );
    const steps = [];
    while (trainer.step < 40) steps.push(await trainer.trainStep());
    return steps;
  };
  const fp32 = await curve("fp32"), fp16 = await curve("fp16");
  const firstSkip = fp16.findIndex((m) => m.skipped);
  const agree = firstSkip < 0 ? fp16.length : firstSkip;
  const worstBeforeSkip = Math.max(
    ...fp16.slice(0, agree).map((m, i) => Math.abs(m.loss - fp32[i].loss) / fp32[i].loss),
  );
  const tail = (ms: { loss: number }[]) => ms.slice(-10).reduce((s, m) => s + m.loss, 0) / 10;
  const gap = Math.abs(tail(fp16) - tail(fp32)) / tail(fp32);
  console.log(
    `fp16 vs fp32: ${agree} steps before the first overflow skip, worst gap there ${
      (worstBeforeSkip * 100).toFixed(3)
    }%; ` +
      `${fp16.filter((m) => m.skipped).length} skipped steps; last-10-step mean loss ${
        tail(fp16).toFixed(3)
      } vs ${tail(fp32).toFixed(3)} (${(gap * 100).toFixed(1)}%)`,
  );
  assert.ok(agree >= 10, "fp16 overflowed in the first 10 steps");
  assert.ok(
    worstBeforeSkip < 0.002,
    `fp16 loss strays ${worstBeforeSkip * 100}% from fp32 before any skip`,
  );
  assert.ok(gap < 0.05, `fp16 ends ${gap * 100}% away from fp32`);
});

Deno.test("bf16 is refused on the CPU provider with a message that says why", async () => {
  await assert.rejects(
    () => Trainer.create(init({ precision: "bf16" })),
    /--precision: bf16 is not supported on cpu: onnxruntime's CPU provider has no bfloat16 kernels/,
  );
});
