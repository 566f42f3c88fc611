/** A small random-init GPT for the inference tests, seeded so every run builds the same weights. */
import { GptConfig, initParams } from "../../model/gpt/mod.ts";
import type { WeightTable } from "../../model/infer/mod.ts";
import { paramSpecs } from "../../model/gpt/mod.ts";

/** Box–Muller over mulberry32. */
export function seededNormal(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * A tiny GPT whose weights are scaled up from the usual init so the logits are far from uniform
 * (a random GPT at std 0.02 barely depends on its input, which would make the cache test weak).
 */
export function tinyModel(
  overrides: Partial<GptConfig> = {},
  seed = 1,
): { cfg: GptConfig; weights: WeightTable } {
  const cfg = GptConfig.parse({
    vocabSize: 300,
    contextLength: 256,
    layers: 2,
    heads: 4,
    width: 64,
    ...overrides,
  });
  const params = initParams(cfg, seededNormal(seed));
  const weights = new Map(
    paramSpecs(cfg).map((s) => {
      const data = params.get(s.name)!;
      if (s.init === "normal" || s.init === "residual") {
        for (let i = 0; i < data.length; i++) data[i] *= 10;
      }
      return [s.name, { data, shape: s.shape }];
    }),
  );
  return { cfg, weights };
}

/** Index of the largest entry. */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Largest absolute difference between two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
