/**
 * The exported decoder run directly in onnxruntime, on the two inputs the transformers.js test does
 * not reach: a left-padded row of a batch gives the logits of the same tokens unpadded, and one step
 * fed the presents of a prefix gives the logits of the whole sequence recomputed.
 */
import assert from "node:assert/strict";
import { buildOnnxDecoder } from "../../model/export/mod.ts";
import { GptConfig, initParams, paramSpecs } from "../../model/gpt/mod.ts";
import { Rng } from "../../model/optim/mod.ts";
import { createSession, ort } from "../../model/runtime.ts";
import { maxAbsDiff } from "../model/_helpers.ts";

const cfg = GptConfig.parse({ vocabSize: 50, contextLength: 16, layers: 2, heads: 2, width: 8 });
const V = cfg.vocabSize, H = cfg.heads, D = cfg.width / cfg.heads;

const int64 = (values: number[], dims: number[]) =>
  new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), dims);

/** Feeds for `rows` of ids with their masks; positions as transformers.js makes them. */
function feeds(ids: number[][], mask: number[][], past?: ort.InferenceSession.OnnxValueMapType) {
  const b = ids.length, t = ids[0].length;
  const positions = mask.map((m) => {
    let seen = 0;
    return m.map((x) => x ? seen++ : 1).slice(m.length - t);
  });
  const f: Record<string, ort.Tensor> = {
    input_ids: int64(ids.flat(), [b, t]),
    attention_mask: int64(mask.flat(), [b, mask[0].length]),
    position_ids: int64(positions.flat(), [b, t]),
  };
  for (let i = 0; i < cfg.layers; i++) {
    for (const which of ["key", "value"]) {
      f[`past_key_values.${i}.${which}`] = past?.[`present.${i}.${which}`] ??
        new ort.Tensor("float32", new Float32Array(0), [b, H, 0, D]);
    }
  }
  return f;
}

Deno.test("the exported decoder ignores left padding and its cache equals recomputing", async () => {
  const rng = new Rng(1);
  const init = initParams(cfg, () => 10 * rng.normal()); // large weights: sharp, distinct logits
  const weights = new Map(
    paramSpecs(cfg).map((s) => [s.name, { data: init.get(s.name)!, shape: s.shape }]),
  );
  const session = await createSession(buildOnnxDecoder(cfg, weights).toModel(), { threads: 1 });
  try {
    const alone = await session.run(feeds([[5, 6, 7]], [[1, 1, 1]]));
    const batch = await session.run(
      feeds([[0, 0, 5, 6, 7], [1, 2, 3, 4, 9]], [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]),
    );
    const padded = (batch.logits.data as Float32Array).subarray(2 * V, 5 * V);
    assert.ok(!padded.some(Number.isNaN));
    assert.equal(maxAbsDiff(padded, alone.logits.data as Float32Array), 0);

    const step = await session.run(feeds([[8]], [[1, 1, 1, 1]], alone));
    assert.deepEqual(step["present.0.key"].dims, [1, H, 4, D]);
    const whole = await session.run(feeds([[5, 6, 7, 8]], [[1, 1, 1, 1]]));
    const last = (whole.logits.data as Float32Array).subarray(3 * V);
    const diff = maxAbsDiff(step.logits.data as Float32Array, last);
    console.log(`cached step vs recomputed: largest logit difference ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-5, `differ by ${diff}`);
  } finally {
    await session.release();
  }
});
