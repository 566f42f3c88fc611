/**
 * Hugging Face GPT-2 directories as a model hub ships them, made from seeded random weights at a
 * reduced size with GPT-2's real tokenizer (vocabulary 50,257): config.json in transformers' own
 * dialect (no Denoformer keys), model.safetensors in fp32 or fp16, with or without the
 * `transformer.` prefix, the old `attn.bias` / `attn.masked_bias` buffers and `lm_head.weight`.
 */
import { encodeSafetensors, type TensorToWrite } from "../../model/checkpoint/mod.ts";
import { float32ToDtype } from "../../model/checkpoint/mod.ts";
import { dtypeToFloat32 } from "../../model/checkpoint/mod.ts";
import { GptConfig, paramSpecs } from "../../model/gpt/mod.ts";
import { Rng } from "../../model/optim/mod.ts";
import { gpt2TokenizerJson, writeGpt2VocabFiles } from "./_gpt2_files.ts";

/** How a directory is laid out. */
export interface HfDirOptions {
  dtype?: "F32" | "F16";
  /** Names as GPT2LMHeadModel saves them (`transformer.h.0…`) or as GPT2Model does (`h.0…`). */
  prefix?: boolean;
  /** The causal-mask buffers older files carry. */
  buffers?: boolean;
  /** `lm_head.weight`: absent, a copy of wte (tied), or its own weights (untied). */
  head?: "none" | "tied-copy" | "untied";
  tokenizer?: "tokenizer.json" | "vocab.json+merges.txt";
  seed?: number;
}

/** The reduced GPT-2 the tests use: GPT-2's vocabulary, 2 blocks of width 32, 64 positions. */
export const SMALL_GPT2 = { vocabSize: 50257, contextLength: 64, layers: 2, heads: 2, width: 32 };

/**
 * Writes the directory and returns the model's config and its weights under our names, as fp32
 * holding exactly what the file holds (rounded to fp16 when stored so).
 */
export async function writeHfGpt2Dir(
  dir: string,
  o: HfDirOptions = {},
): Promise<{ config: GptConfig; weights: Map<string, { data: Float32Array; shape: number[] }> }> {
  const dtype = o.dtype ?? "F32", head = o.head ?? "none";
  const config = GptConfig.parse({ ...SMALL_GPT2, tieEmbeddings: head !== "untied", dropout: 0.1 });
  const rng = new Rng(o.seed ?? 5);
  const weights = new Map<string, { data: Float32Array; shape: number[] }>();
  const file = new Map<string, TensorToWrite>();
  for (const s of paramSpecs(config)) {
    const data = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
    // Larger than GPT-2's init, so the logits are far from uniform and greedy choices are clear.
    if (s.init === "ones") data.forEach((_, i) => data[i] = 1 + 0.1 * rng.normal());
    else data.forEach((_, i) => data[i] = (s.init === "zeros" ? 0.02 : 0.15) * rng.normal());
    const bytes = float32ToDtype(data, dtype);
    weights.set(s.name, { data: dtypeToFloat32(bytes, dtype), shape: [...s.shape] });
    const stored = o.prefix === false ? s.name.replace(/^transformer\./, "") : s.name;
    file.set(stored, { dtype, shape: s.shape, data: bytes });
  }
  if (head === "tied-copy") {
    const wte = file.get(o.prefix === false ? "wte.weight" : "transformer.wte.weight")!;
    file.set("lm_head.weight", { ...wte, data: (wte.data as Uint8Array).slice() });
  }
  if (o.buffers) {
    const t = config.contextLength;
    const mask = new Float32Array(t * t).map((_, i) => Math.floor(i / t) >= i % t ? 1 : 0);
    for (let i = 0; i < config.layers; i++) {
      const h = `${o.prefix === false ? "" : "transformer."}h.${i}.attn`;
      file.set(`${h}.bias`, { dtype: "F32", shape: [1, 1, t, t], data: mask });
      file.set(`${h}.masked_bias`, { dtype: "F32", shape: [], data: Float32Array.of(-1e4) });
    }
  }
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(file, { format: "pt" }));
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify(publishedGpt2Config(config, dtype)),
  );
  if (o.tokenizer === "tokenizer.json") {
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(await gpt2TokenizerJson()));
  } else {
    await writeGpt2VocabFiles(dir);
  }
  return { config, weights };
}

/**
 * config.json as the Hub's gpt2 repository publishes it, at the sizes of `c` (tie_word_embeddings
 * left to its default unless untied).
 */
export function publishedGpt2Config(
  c: Omit<GptConfig, "dropout" | "positional" | "layerNormEpsilon">,
  dtype = "F32",
): Record<string, unknown> {
  return {
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: c.contextLength,
    n_embd: c.width,
    n_head: c.heads,
    n_layer: c.layers,
    n_positions: c.contextLength,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    torch_dtype: dtype === "F16" ? "float16" : "float32",
    vocab_size: c.vocabSize,
    ...(c.tieEmbeddings ? {} : { tie_word_embeddings: false }),
  };
}
