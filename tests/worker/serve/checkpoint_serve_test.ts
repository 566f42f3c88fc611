/**
 * Serving a real checkpoint: written by model/checkpoint's saveCheckpoint with model/tokenizer's
 * byte tokenizer, loaded (and verified) by `serve --checkpoint`.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { saveCheckpoint } from "../../../model/checkpoint/mod.ts";
import { InferenceEngine } from "../../../model/infer/mod.ts";
import { byteTokenizer, toTokenizerJson } from "../../../model/tokenizer/mod.ts";
import { randomModel } from "../../../worker/serve/model_source.ts";
import { argmax } from "../../../worker/serve/sampling.ts";
import { startServerProcess } from "./_server.ts";

Deno.test({
  name:
    "a saved checkpoint is served: greedy tokens over gRPC equal the engine's on the same weights",
  async fn() {
    const model = randomModel("tiny", { seed: 9, vocabSize: 258 }); // 256 bytes + 2 specials
    const copy = (scale = 1) =>
      new Map([...model.weights].map(([k, t]) => [k, t.data.map((x) => x * scale)]));
    const dir = await Deno.makeTempDir({ prefix: "serve_ckpt_" });
    try {
      await saveCheckpoint(`${dir}/checkpoints`, {
        config: model.cfg,
        tensors: model.weights,
        tokenizerJson: JSON.stringify(toTokenizerJson(byteTokenizer())),
        optimizer: { step: 0, m: copy(0), v: copy(0) },
        state: { step: 1 },
      });
      const engine = await InferenceEngine.create(model.cfg, model.weights, { maxBatch: 1 });
      const prompt = Array.from(new TextEncoder().encode("héllo"));
      const expected: number[] = [];
      let logits = (await engine.prefill(engine.acquire(), prompt)).logits!;
      for (let i = 0; i < 12; i++) {
        expected.push(argmax(logits));
        logits = (await engine.decode([expected.at(-1)!]))[0].logits!;
      }
      const server = await startServerProcess([], ["--checkpoint", dir]);
      try {
        const got: number[] = [];
        for await (const r of server.client.generate({ prompt: "héllo", max_tokens: 12 })) {
          got.push(...r.token_ids);
        }
        assertEquals(got, expected);
        const info = await server.client.call<{ name: string }>("ModelInfo");
        assertEquals(info.name, `${dir}/checkpoints/step-000001`);
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
