/**
 * A distributed job with `initFrom`: the coordinator reads the pretrained directory, sends the
 * model's shape in the job and its weights as the state of step 0, and two worker processes
 * fine-tune it with frozen blocks; the merged checkpoint keeps the frozen weights bit for bit. The
 * job's dropout applies over the model's, as `deno task train --init-from` does; a shape field in
 * the job is refused by name.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { writeHfGpt2Dir } from "./_hf_dir.ts";
import { denoOutput } from "../../model/subprocess.ts";

Deno.test("a job with initFrom fine-tunes the pretrained weights on 2 workers, frozen blocks untouched", async () => {
  const dir = await Deno.makeTempDir({ prefix: "job_init_" });
  try {
    await Deno.mkdir(`${dir}/gpt2`);
    const { config, weights } = await writeHfGpt2Dir(`${dir}/gpt2`, { dtype: "F16" });
    const ingested = await denoOutput("ingest/main.ts", [
      ...["--tokenizer", `${dir}/gpt2`, "--out", `${dir}/data`, "--val-fraction", "0"],
      "/usr/share/common-licenses/GPL-3",
    ]);
    assert.equal(ingested.code, 0, ingested.stderr);
    await Deno.writeTextFile(
      `${dir}/job.json`,
      JSON.stringify({
        initFrom: `${dir}/gpt2`,
        model: { dropout: 0.05 },
        train: {
          microBatch: 1,
          sequenceLength: 16,
          evalEvery: 0,
          checkpointEvery: 0,
          freeze: { embeddings: true, layers: 1 },
        },
        heartbeatMs: 250,
        deadAfterMs: 5000,
      }),
    );
    const coordinator = await denoOutput("coordinator/main.ts", [
      ...["--data", `${dir}/data`, "--out", `${dir}/run`, "--config", `${dir}/job.json`],
      ...["--steps", "2", "--local-workers", "2", "--threads", "1", "--port", "0"],
    ]);
    assert.equal(coordinator.code, 0, coordinator.stderr);

    const ckpt = await loadCheckpoint(`${dir}/run`);
    assert.equal(ckpt.state.step, 2);
    assert.deepEqual(
      ckpt.config,
      { ...config, dropout: 0.05 },
      "the job's dropout, the model's shape",
    );
    assert.equal((ckpt.state.train as { lr: number }).lr, 5e-5, "the fine-tuning default");
    for (const [name, w] of weights) {
      const same = ckpt.tensors.get(name)!.data.every((x, i) => x === w.data[i]);
      const frozen = !name.startsWith("transformer.h.1.") && !name.startsWith("transformer.ln_f");
      assert.equal(same, frozen, `${name}: frozen ${frozen}`);
    }

    await Deno.writeTextFile(
      `${dir}/wider.json`,
      JSON.stringify({ initFrom: `${dir}/gpt2`, model: { width: 2 * config.width } }),
    );
    const refused = await denoOutput("coordinator/main.ts", [
      ...["--data", `${dir}/data`, "--out", `${dir}/wider`, "--config", `${dir}/wider.json`],
      ...["--local-workers", "1", "--port", "0"],
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /model\.width: is fixed by the pretrained model \(initFrom\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
