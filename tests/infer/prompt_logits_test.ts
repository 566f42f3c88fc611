import { ok as assert } from "node:assert/strict";
import { InferenceEngine } from "../../model/infer/mod.ts";
import { maxAbsDiff, tinyModel } from "./_model.ts";

Deno.test("promptLogits gives, for every prompt position, the logits the cached path gives", async () => {
  const { cfg, weights } = tinyModel();
  const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 1, threads: 1 });
  const ids = Array.from({ length: 21 }, (_, i) => (i * 37 + 11) % cfg.vocabSize);
  const all = await engine.promptLogits(ids);
  assert(all.length === ids.length * cfg.vocabSize);
  const v = cfg.vocabSize;
  let worst = maxAbsDiff(
    all.subarray(0, v),
    (await engine.prefill(engine.acquire(), ids.slice(0, 1))).logits!,
  );
  for (let j = 1; j < ids.length; j++) {
    const [row] = await engine.decode([ids[j]]);
    worst = Math.max(worst, maxAbsDiff(all.subarray(j * v, (j + 1) * v), row.logits!));
  }
  engine.release(0);
  console.log(
    `max |promptLogits - cached| over ${ids.length} positions: ${worst.toExponential(2)}`,
  );
  assert(worst < 1e-4, `logits differ by ${worst}`);
});
