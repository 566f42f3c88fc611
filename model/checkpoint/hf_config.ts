/**
 * config.json in the Hugging Face GPT-2 dialect, with our own fields under `denoformer`, so that
 * `transformers` can load the checkpoint and we can rebuild the exact model from it.
 *
 * @example
 * ```ts
 * const hf = toHfConfig({ vocabSize: 4096, contextLength: 128, layers: 4, heads: 4, width: 128,
 *   dropout: 0, positional: "learned", tieEmbeddings: true, layerNormEpsilon: 1e-5 });
 * hf.n_embd; // 128
 * fromHfConfig(hf).width; // 128
 * ```
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import { GptConfig } from "../gpt/config.ts";

/** A config.json object: Hugging Face GPT-2 keys plus `denoformer`. */
export type HfGpt2Config = Record<string, unknown> & {
  model_type: "gpt2";
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  layer_norm_epsilon: number;
  tie_word_embeddings: boolean;
  denoformer: GptConfig;
};

/** Maps our config to a Hugging Face GPT-2 config.json object; ours rides along under `denoformer`. */
export function toHfConfig(config: GptConfig): HfGpt2Config {
  return {
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    vocab_size: config.vocabSize,
    n_positions: config.contextLength,
    n_embd: config.width,
    n_layer: config.layers,
    n_head: config.heads,
    n_inner: null,
    activation_function: "gelu_new",
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    layer_norm_epsilon: config.layerNormEpsilon,
    initializer_range: 0.02,
    scale_attn_weights: true,
    use_cache: true,
    tie_word_embeddings: config.tieEmbeddings,
    torch_dtype: "float32",
    denoformer: { ...config },
  };
}

/** The Hugging Face keys we read, with GPT-2's defaults where a file leaves them out. */
const HfKeys = z.object({
  model_type: z.literal("gpt2"),
  vocab_size: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().default(null),
  activation_function: z.enum(["gelu_new", "gelu_pytorch_tanh"]).default("gelu_new"),
  resid_pdrop: z.number().default(0.1),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  tie_word_embeddings: z.boolean().default(true),
  denoformer: z.unknown().optional(),
}).loose();

/**
 * Reads our config back from a config.json object. A file without `denoformer` (a plain Hugging
 * Face GPT-2 config) maps to learned positions and GPT-2's defaults. Where both are present they must
 * agree. Errors name `source` and the field.
 */
export function fromHfConfig(json: unknown, source = "config.json"): GptConfig {
  const hf = HfKeys.safeParse(json);
  if (!hf.success) throw new InputError(source, zodMessage(hf.error));
  const h = hf.data;
  if (h.n_inner !== null && h.n_inner !== 4 * h.n_embd) {
    throw new InputError(
      `${source}: n_inner`,
      `Expected null or ${4 * h.n_embd}, got ${h.n_inner}`,
    );
  }
  const fromHf = {
    vocabSize: h.vocab_size,
    contextLength: h.n_positions,
    layers: h.n_layer,
    heads: h.n_head,
    width: h.n_embd,
    dropout: h.resid_pdrop,
    positional: "learned" as const,
    tieEmbeddings: h.tie_word_embeddings,
    layerNormEpsilon: h.layer_norm_epsilon,
  };
  if (h.denoformer === undefined) return fromHf;
  const ours = GptConfig.safeParse(h.denoformer);
  if (!ours.success) throw new InputError(`${source}: denoformer`, zodMessage(ours.error));
  const pairs: [keyof typeof fromHf, string][] = [
    ["vocabSize", "vocab_size"],
    ["contextLength", "n_positions"],
    ["layers", "n_layer"],
    ["heads", "n_head"],
    ["width", "n_embd"],
    ["tieEmbeddings", "tie_word_embeddings"],
    ["layerNormEpsilon", "layer_norm_epsilon"],
  ];
  for (const [ourKey, hfKey] of pairs) {
    if (ours.data[ourKey] !== fromHf[ourKey]) {
      throw new InputError(
        `${source}: ${hfKey}`,
        `Disagrees with denoformer.${ourKey}: ${JSON.stringify(fromHf[ourKey])} vs ` +
          JSON.stringify(ours.data[ourKey]),
      );
    }
  }
  return ours.data;
}

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}
