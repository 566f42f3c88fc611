/**
 * The tensor names and shapes of a Hugging Face GPT-2 checkpoint (`GPT2LMHeadModel`) for a given
 * config, and a check that a set of tensors has exactly them. Linear layers are GPT-2's Conv1D,
 * stored as [in, out]. With tied embeddings the head is `transformer.wte.weight` and
 * `lm_head.weight` is absent; with sinusoidal positions `transformer.wpe.weight` may hold the fixed
 * table (so `transformers` can load the model) or be left out.
 *
 * @example
 * ```ts
 * gpt2TensorShapes(config).get("transformer.h.0.mlp.c_fc.weight"); // [width, 4 * width]
 * checkGpt2Tensors(config, loaded.tensors); // throws InputError naming the first bad tensor
 * ```
 */
import { InputError } from "../errors.ts";
import type { GptConfig } from "../gpt/config.ts";

/** Every tensor GPT-2 has for `config`, in Hugging Face's order, with its shape. */
export function gpt2TensorShapes(config: GptConfig): Map<string, number[]> {
  const { vocabSize: v, contextLength: t, width: c } = config;
  const shapes = new Map<string, number[]>([
    ["transformer.wte.weight", [v, c]],
    ["transformer.wpe.weight", [t, c]],
  ]);
  for (let i = 0; i < config.layers; i++) {
    const h = `transformer.h.${i}`;
    shapes.set(`${h}.ln_1.weight`, [c]).set(`${h}.ln_1.bias`, [c]);
    shapes.set(`${h}.attn.c_attn.weight`, [c, 3 * c]).set(`${h}.attn.c_attn.bias`, [3 * c]);
    shapes.set(`${h}.attn.c_proj.weight`, [c, c]).set(`${h}.attn.c_proj.bias`, [c]);
    shapes.set(`${h}.ln_2.weight`, [c]).set(`${h}.ln_2.bias`, [c]);
    shapes.set(`${h}.mlp.c_fc.weight`, [c, 4 * c]).set(`${h}.mlp.c_fc.bias`, [4 * c]);
    shapes.set(`${h}.mlp.c_proj.weight`, [4 * c, c]).set(`${h}.mlp.c_proj.bias`, [c]);
  }
  shapes.set("transformer.ln_f.weight", [c]).set("transformer.ln_f.bias", [c]);
  if (!config.tieEmbeddings) shapes.set("lm_head.weight", [v, c]);
  return shapes;
}

/** Throws an InputError naming the first missing, unexpected or misshapen tensor. */
export function checkGpt2Tensors(
  config: GptConfig,
  tensors: ReadonlyMap<string, { shape: readonly number[] }>,
  source = "model.safetensors",
): void {
  const want = gpt2TensorShapes(config);
  const optional = config.positional === "sinusoidal" ? "transformer.wpe.weight" : undefined;
  for (const [name, shape] of want) {
    const got = tensors.get(name);
    if (got === undefined) {
      if (name === optional) continue;
      throw new InputError(`${source}: ${name}`, "Missing tensor");
    }
    if (got.shape.length !== shape.length || got.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(
        `${source}: ${name}`,
        `Expected shape [${shape.join(", ")}], got [${got.shape.join(", ")}]` +
          transposedHint(got.shape, shape),
      );
    }
  }
  for (const name of tensors.keys()) {
    if (!want.has(name)) {
      const hint = name === "lm_head.weight" ? ": tied embeddings store only wte" : "";
      throw new InputError(`${source}: ${name}`, `Unexpected tensor${hint}`);
    }
  }
}

function transposedHint(got: readonly number[], want: readonly number[]): string {
  const swapped = got.length === 2 && want[0] !== want[1] && got[0] === want[1] &&
    got[1] === want[0];
  return swapped
    ? " (transposed? GPT-2's Conv1D stores linear weights [in, out], nn.Linear [out, in])"
    : "";
}
