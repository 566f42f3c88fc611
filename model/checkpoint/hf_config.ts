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

/**
 * Largest sizes a config.json may declare. Several allocations follow from the config alone (the
 * KV cache, the causal mask, a sinusoidal table), so absurd sizes are refused before anything is
 * built: the largest GPT-2 is 1,600 wide with 48 layers and 1,024 positions.
 */
export const MODEL_LIMITS = {
  vocab_size: 1 << 20,
  n_positions: 1 << 16,
  n_embd: 1 << 14,
  n_layer: 512,
} as const;

const size = (key: keyof typeof MODEL_LIMITS) =>
  z.number().int().positive().max(MODEL_LIMITS[key], `At most ${MODEL_LIMITS[key]}`);

/** The Hugging Face keys we read, with GPT-2's defaults where a file leaves them out. */
const HfKeys = z.object({
  model_type: z.string(),
  vocab_size: size("vocab_size"),
  n_positions: size("n_positions"),
  n_embd: size("n_embd"),
  n_layer: size("n_layer"),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().default(null),
  activation_function: z.string().default("gelu_new"),
  resid_pdrop: z.number().min(0).max(0.9).default(0.1),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  tie_word_embeddings: z.boolean().default(true),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  add_cross_attention: z.boolean().default(false),
  denoformer: z.unknown().optional(),
}).loose();

/**
 * GPT-2 variants the model cannot represent, each refused by the key that asks for it: the value
 * that would be read, and why it cannot be.
 */
function refuseVariants(h: z.infer<typeof HfKeys>, source: string): void {
  const refuse = (key: string, message: string) => {
    throw new InputError(`${source}: ${key}`, message);
  };
  if (h.model_type !== "gpt2") {
    refuse("model_type", `Only the GPT-2 family ("gpt2") is supported, got "${h.model_type}"`);
  }
  if (!TANH_GELU.includes(h.activation_function)) {
    refuse(
      "activation_function",
      `Unsupported activation "${h.activation_function}": the MLP uses GELU with the tanh ` +
        `approximation (${TANH_GELU.map((a) => `"${a}"`).join(" or ")})`,
    );
  }
  if (h.n_inner !== null && h.n_inner !== 4 * h.n_embd) {
    refuse("n_inner", `Expected null or ${4 * h.n_embd}, got ${h.n_inner}`);
  }
  if (!h.scale_attn_weights) {
    refuse("scale_attn_weights", "Unscaled attention (no 1/√headWidth) is not supported");
  }
  if (h.scale_attn_by_inverse_layer_idx) {
    refuse(
      "scale_attn_by_inverse_layer_idx",
      "Attention scaled by 1/(layer + 1) (Mistral's GPT-2 variant) is not supported",
    );
  }
  if (h.add_cross_attention) refuse("add_cross_attention", "Cross-attention is not supported");
}

/** The activation names transformers gives GELU with the tanh approximation. */
const TANH_GELU = ["gelu_new", "gelu_pytorch_tanh"];

/**
 * Reads our config back from a config.json object. A file without `denoformer` (a plain Hugging
 * Face GPT-2 config) maps to learned positions and GPT-2's defaults. Where both are present they must
 * agree. Errors name `source` and the field.
 */
export function fromHfConfig(json: unknown, source = "config.json"): GptConfig {
  const hf = HfKeys.safeParse(json);
  if (!hf.success) {
    const issue = hf.error.issues[0];
    const key = issue.path.join(".");
    const got = key ? (json as Record<string, unknown>)[key] : json;
    throw new InputError(
      key ? `${source}: ${key}` : source,
      `${issue.message} (got ${JSON.stringify(got)})`,
    );
  }
  const h = hf.data;
  refuseVariants(h, source);
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
  if (h.n_embd % h.n_head !== 0) {
    throw new InputError(`${source}: n_head`, `${h.n_head} does not divide n_embd ${h.n_embd}`);
  }
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
