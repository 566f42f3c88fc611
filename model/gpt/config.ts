/**
 * The GPT's configuration: one zod schema, the type inferred from it, and the named presets.
 *
 * @example
 * ```ts
 * const cfg = GptConfig.parse({ ...presets.tiny, positional: "sinusoidal" });
 * ```
 */
import { z } from "zod";

export const GptConfig = z
  .object({
    vocabSize: z.number().int().positive(),
    contextLength: z.number().int().positive().default(256),
    layers: z.number().int().positive().default(6),
    heads: z.number().int().positive().default(6),
    width: z.number().int().positive().default(384),
    dropout: z.number().min(0).max(0.9).default(0),
    positional: z.enum(["learned", "sinusoidal"]).default("learned"),
    /** The output head reuses the token embedding (GPT-2, and one table to look at). */
    tieEmbeddings: z.boolean().default(true),
    layerNormEpsilon: z.number().positive().default(1e-5),
  })
  .strict()
  .refine((c) => c.width % c.heads === 0, {
    message: "width must be divisible by heads",
    path: ["width"],
  })
  .refine((c) => c.positional === "learned" || c.width % 2 === 0, {
    message: "sinusoidal positions need an even width",
    path: ["positional"],
  });
export type GptConfig = z.infer<typeof GptConfig>;

/** Named shapes: `tiny` for tests and laptops, `small` for benchmarks, `gpt2` the 124M shape. */
export const presets = {
  tiny: { vocabSize: 4096, contextLength: 128, layers: 4, heads: 4, width: 128 },
  small: { vocabSize: 8192, contextLength: 256, layers: 6, heads: 6, width: 384 },
  gpt2: { vocabSize: 50257, contextLength: 1024, layers: 12, heads: 12, width: 768 },
} as const satisfies Record<string, Partial<GptConfig>>;
export type PresetName = keyof typeof presets;
/** A preset's name, checked against the table above. */
export const PresetName = z.enum(Object.keys(presets) as [PresetName, ...PresetName[]]);
