/**
 * Which parameters fine-tuning holds fixed: the embedding tables and/or the first N blocks. With
 * few documents, training only the upper blocks keeps what the lower ones learned and needs no
 * gradient or optimizer state for them.
 *
 * @example
 * ```ts
 * const freeze = parseFreeze("embeddings,6"); // { embeddings: true, layers: 6 }
 * frozenParams(config, freeze); // ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight", …]
 * ```
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import { type GptConfig, paramSpecs } from "../gpt/mod.ts";

export const Freeze = z.object({
  /** wte and wpe; with tied embeddings the output head is wte, so it is held too. */
  embeddings: z.boolean().default(false),
  /** Blocks 0 … layers−1. */
  layers: z.number().int().nonnegative().default(0),
}).strict();
export type Freeze = z.infer<typeof Freeze>;

/** Reads `--freeze`: a comma list of `embeddings` and a number of leading blocks. */
export function parseFreeze(value: string, flag = "--freeze"): Freeze {
  const freeze = { embeddings: false, layers: 0 };
  for (const item of value.split(",").map((s) => s.trim())) {
    if (item === "embeddings") freeze.embeddings = true;
    else if (/^\d+$/.test(item)) freeze.layers = Number(item);
    else {
      throw new InputError(flag, `Expected "embeddings" and/or a number of blocks, got "${item}"`);
    }
  }
  return freeze;
}

/** The names of the parameters `freeze` holds fixed in a model of `cfg`. */
export function frozenParams(cfg: GptConfig, freeze: Freeze): string[] {
  if (freeze.layers > cfg.layers) {
    throw new InputError(
      "freeze.layers",
      `${freeze.layers} blocks asked, the model has ${cfg.layers}`,
    );
  }
  const blocks = Array.from({ length: freeze.layers }, (_, i) => `transformer.h.${i}.`);
  return paramSpecs(cfg).map((s) => s.name).filter((name) =>
    (freeze.embeddings &&
      (name === "transformer.wte.weight" || name === "transformer.wpe.weight")) ||
    blocks.some((b) => name.startsWith(b))
  );
}
