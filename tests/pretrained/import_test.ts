/**
 * Starting from a model hub's GPT-2 directory: each layout loads into the same weights, its greedy
 * tokens equal those of the same weights given to the engine directly, `train --init-from` fine-tunes
 * it (frozen blocks untouched) and resumes, `serve` serves it as is, and what the model cannot
 * represent is refused by name.
 */
import assert from "node:assert/strict";
import { loadCheckpoint, loadModelDir } from "../../model/checkpoint/mod.ts";
import { InputError } from "../../model/errors.ts";
import { GptConfig } from "../../model/gpt/mod.ts";
import { InferenceEngine, type WeightTable } from "../../model/infer/mod.ts";
import { fromTokenizerJson } from "../../model/tokenizer/mod.ts";
import { argmax } from "../../worker/serve/sampling.ts";
import { startServerProcess } from "../worker/serve/_server.ts";
import { type HfDirOptions, writeHfGpt2Dir } from "./_hf_dir.ts";
import { denoOutput } from "../../model/subprocess.ts";

const PROMPT = "The quick brown fox";

/** Greedy tokens of `weights` after `prompt`, from the engine with no import in between. */
async function greedy(cfg: GptConfig, weights: WeightTable, prompt: number[], n: number) {
  const engine = await InferenceEngine.create(GptConfig.parse({ ...cfg, dropout: 0 }), weights, {
    maxBatch: 1,
    threads: 1,
  });
  const out: number[] = [];
  let logits = (await engine.prefill(engine.acquire(), prompt)).logits!;
  for (let i = 0; i < n; i++) {
    out.push(argmax(logits));
    logits = (await engine.decode([out.at(-1)!]))[0].logits!;
  }
  return out;
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "hf_gpt2_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const VARIANTS: [string, HfDirOptions][] = [
  ["fp16, GPT2Model names, attn buffers, vocab.json + merges.txt", {
    dtype: "F16",
    prefix: false,
    buffers: true,
  }],
  ["fp32 with a tied lm_head copy and tokenizer.json", {
    head: "tied-copy",
    tokenizer: "tokenizer.json",
  }],
  ["fp32 with an untied lm_head", { head: "untied", tokenizer: "tokenizer.json" }],
];

for (const [name, options] of VARIANTS) {
  Deno.test(`HF GPT-2 directory (${name}) loads and generates as its weights do`, () =>
    withDir(async (dir) => {
      const { config, weights } = await writeHfGpt2Dir(dir, options);
      const model = await loadModelDir(dir);
      assert.deepEqual(model.config, config);
      assert.deepEqual([...model.tensors.keys()].sort(), [...weights.keys()].sort());
      for (const [k, w] of weights) assert.deepEqual(model.tensors.get(k)!.data, w.data, k);
      const tok = fromTokenizerJson(JSON.parse(model.tokenizerJson));
      const prompt = tok.encode(PROMPT);
      assert.deepEqual(prompt, [464, 2068, 7586, 21831]); // GPT-2's own ids
      const expected = await greedy(config, weights, prompt, 8);
      assert.deepEqual(await greedy(model.config, model.tensors, prompt, 8), expected);
    }));
}

const train = (args: string[]) => denoOutput("tools/train_main.ts", args);

Deno.test("train --init-from fine-tunes an fp16 HF directory with frozen layers, resumes, and serve serves the directory", () =>
  withDir(async (dir) => {
    const hf = `${dir}/gpt2`, run = `${dir}/run`;
    await Deno.mkdir(hf);
    const { config, weights } = await writeHfGpt2Dir(hf, { dtype: "F16", buffers: true });
    const common = [
      ...["--init-from", hf, "--data", "/usr/share/common-licenses/GPL-3", "--out", run],
      ...["--context", "32", "--micro-batch", "2", "--threads", "1", "--eval-every", "0"],
      ...["--freeze", "embeddings,1"],
    ];
    const first = await train([...common, "--steps", "2"]);
    assert.equal(first.code, 0, first.stderr);
    // Frozen: wte, wpe and block 0; trainable: block 1 and the final LayerNorm.
    const c = config.width, blockParams = 12 * c * c + 13 * c;
    assert.match(
      first.stderr,
      new RegExp(`parameters: ${(blockParams + 2 * c).toLocaleString("en")} trainable of `),
    );
    const second = await train([...common, "--steps", "3", "--resume"]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resumed from .*step-000002 at step 2/);

    const ckpt = await loadCheckpoint(run);
    assert.equal(ckpt.state.step, 3);
    assert.deepEqual(ckpt.config, config, "sizes, context and dropout come from the directory");
    const lrs = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l).lr);
    assert.ok(Math.max(...lrs) <= 5e-5, `the fine-tuning schedule: ${lrs}`);
    for (const [name, w] of weights) {
      const now = ckpt.tensors.get(name)!.data;
      const frozen = !name.startsWith("transformer.h.1.") && !name.startsWith("transformer.ln_f");
      assert.equal(now.every((x, i) => x === w.data[i]), frozen, `${name} frozen: ${frozen}`);
    }
    assert.equal(fromTokenizerJson(JSON.parse(ckpt.tokenizerJson)).vocabSize, 50257);

    const tok = fromTokenizerJson(JSON.parse(ckpt.tokenizerJson));
    const expected = await greedy(config, weights, tok.encode(PROMPT), 10);
    const server = await startServerProcess([], ["--checkpoint", hf]);
    try {
      const got: number[] = [];
      for await (const r of server.client.generate({ prompt: PROMPT, max_tokens: 10 })) {
        got.push(...r.token_ids);
      }
      assert.deepEqual(got, expected);
    } finally {
      await server.stop();
    }
  }));

/** Writes a valid directory, lets `edit` spoil it, and expects loading to fail naming `where`. */
async function refused(edit: (dir: string) => Promise<void>, where: RegExp, message: RegExp) {
  await withDir(async (dir) => {
    await writeHfGpt2Dir(dir, { tokenizer: "tokenizer.json" });
    await edit(dir);
    await assert.rejects(() => loadModelDir(dir), (err: Error) => {
      assert.ok(err instanceof InputError, String(err.stack));
      assert.match(err.where, where);
      assert.match(err.message, message);
      return true;
    });
  });
}

async function editConfig(dir: string, changes: Record<string, unknown>) {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...json, ...changes }));
}

Deno.test("what the model cannot represent is refused by name", async () => {
  await refused(
    (dir) => editConfig(dir, { activation_function: "gelu" }),
    /config\.json: activation_function$/,
    /Unsupported activation "gelu"/,
  );
  await refused(
    (dir) => editConfig(dir, { scale_attn_by_inverse_layer_idx: true }),
    /config\.json: scale_attn_by_inverse_layer_idx$/,
    /not supported/,
  );
  await refused(
    (dir) => editConfig(dir, { model_type: "llama" }),
    /config\.json: model_type$/,
    /Only the GPT-2 family/,
  );
  await refused(
    async (dir) => {
      await Deno.rename(`${dir}/model.safetensors`, `${dir}/pytorch_model.bin`);
    },
    /pytorch_model\.bin$/,
    /PyTorch pickles are not read/,
  );
  await refused(
    (dir) => editConfig(dir, { n_positions: 128, n_ctx: 128 }),
    /model\.safetensors: transformer\.wpe\.weight$/,
    /Expected shape \[128, 32\], got \[64, 32\]/,
  );
});

Deno.test("an fp16 NaN in an HF directory is refused naming the tensor", () =>
  withDir(async (dir) => {
    await writeHfGpt2Dir(dir, { dtype: "F16", tokenizer: "tokenizer.json" });
    const bytes = await Deno.readFile(`${dir}/model.safetensors`);
    const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const entries = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + header)));
    const [begin] = entries["transformer.h.1.mlp.c_proj.weight"].data_offsets;
    new DataView(bytes.buffer).setUint16(8 + header + begin + 6, 0x7e00, true); // fp16 NaN
    await Deno.writeFile(`${dir}/model.safetensors`, bytes);
    await assert.rejects(() => loadModelDir(dir), /c_proj\.weight: Element 3 is NaN/);
  }));
