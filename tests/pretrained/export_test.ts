/**
 * `deno task export` writes a folder that transformers.js (npm @huggingface/transformers, on
 * onnxruntime-node) loads as GPT-2: its greedy generation, which runs the exported decoder with
 * past key/values, gives the same tokens as our server, and its logits equal our engine's.
 */
import assert from "node:assert/strict";
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from "@huggingface/transformers";
import { saveCheckpoint } from "../../model/checkpoint/mod.ts";
import { GptConfig } from "../../model/gpt/mod.ts";
import { InferenceEngine } from "../../model/infer/mod.ts";
import { fromTokenizerJson } from "../../model/tokenizer/mod.ts";
import { startServerProcess } from "../worker/serve/_server.ts";
import { maxAbsDiff } from "../model/_helpers.ts";
import { gpt2TokenizerJson } from "./_gpt2_files.ts";
import { writeHfGpt2Dir } from "./_hf_dir.ts";
import { denoOutput } from "../../model/subprocess.ts";

const PROMPTS = ["The quick brown fox", "Hello, world! 東京タワー", "def add(a, b):\n    return"];
const NEW_TOKENS = 12;

Deno.test("an exported checkpoint generates in transformers.js as our server does, logits within 1e-4", async () => {
  const dir = await Deno.makeTempDir({ prefix: "export_" });
  try {
    await Deno.mkdir(`${dir}/hf`);
    const { config, weights } = await writeHfGpt2Dir(`${dir}/hf`, { tokenizer: "tokenizer.json" });
    const cfg = GptConfig.parse({ ...config, dropout: 0 });
    const tokenizerJson = JSON.stringify(await gpt2TokenizerJson());
    await saveCheckpoint(`${dir}/run/checkpoints`, {
      config: cfg,
      tensors: weights,
      tokenizerJson,
      optimizer: { step: 0, m: new Map(), v: new Map() },
      state: { step: 1 },
    });
    const exported = await denoOutput("tools/export_main.ts", [
      ...["--checkpoint", `${dir}/run`, "--format", "onnx", "--out", `${dir}/export`],
    ]);
    assert.equal(exported.code, 0, exported.stderr);

    const ours = new Map<string, number[]>();
    const server = await startServerProcess([], ["--checkpoint", `${dir}/run`]);
    try {
      for (const prompt of PROMPTS) {
        const ids: number[] = [];
        for await (const r of server.client.generate({ prompt, max_tokens: NEW_TOKENS })) {
          ids.push(...r.token_ids);
        }
        ours.set(prompt, ids);
      }
    } finally {
      await server.stop();
    }

    env.allowRemoteModels = false;
    env.localModelPath = `${dir}/`;
    const tokenizer = await AutoTokenizer.from_pretrained("export");
    const model = await AutoModelForCausalLM.from_pretrained("export", { dtype: "fp32" });
    const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 1, threads: 1 });
    const ourTokenizer = fromTokenizerJson(JSON.parse(tokenizerJson));
    let worst = 0;
    try {
      for (const prompt of PROMPTS) {
        const inputs = tokenizer(prompt);
        const promptIds = (inputs.input_ids.tolist()[0] as bigint[]).map(Number);
        assert.deepEqual(promptIds, ourTokenizer.encode(prompt));
        const generated = await model.generate({
          ...inputs,
          max_new_tokens: NEW_TOKENS,
          do_sample: false,
        }) as Tensor;
        const all = (generated.tolist()[0] as bigint[]).map(Number);
        assert.deepEqual(all.slice(promptIds.length), ours.get(prompt), JSON.stringify(prompt));

        // Logits of the whole sequence, no cache: theirs from the exported graph, ours recomputed.
        const ids = new (inputs.input_ids.constructor as typeof Tensor)(
          "int64",
          BigInt64Array.from(all.map(BigInt)),
          [1, all.length],
        );
        const mask = new (inputs.input_ids.constructor as typeof Tensor)(
          "int64",
          new BigInt64Array(all.length).fill(1n),
          [1, all.length],
        );
        const { logits } = await model({ input_ids: ids, attention_mask: mask });
        const expected = await engine.forwardFull([all]);
        worst = Math.max(worst, maxAbsDiff(logits.data as Float32Array, expected));
      }
    } finally {
      await model.dispose();
    }
    console.log(
      `transformers.js vs our engine: largest logit difference ${worst.toExponential(2)}`,
    );
    assert.ok(worst <= 1e-4, `logits differ by ${worst}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
