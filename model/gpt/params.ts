/**
 * The GPT's parameters under their Hugging Face GPT-2 names and layouts (linear weights stored
 * [in, out], as GPT-2's Conv1D does), with each one's initialisation and weight-decay flag.
 */
import type { GptConfig } from "./config.ts";

/** One parameter tensor. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Matrices and embeddings decay; biases and LayerNorm gains do not. */
  readonly decay: boolean;
  readonly init: "normal" | "residual" | "zeros" | "ones";
}

/** Every trainable parameter in a fixed order (the order of flat buffers and all-reduce). */
export function paramSpecs(cfg: GptConfig): ParamSpec[] {
  const { vocabSize: v, contextLength: t, width: c, layers } = cfg;
  const matrix = (
    name: string,
    shape: number[],
    init: "normal" | "residual" = "normal",
  ): ParamSpec => ({
    name,
    shape,
    decay: true,
    init,
  });
  const vector = (name: string, n: number, init: "zeros" | "ones"): ParamSpec => ({
    name,
    shape: [n],
    decay: false,
    init,
  });
  const specs: ParamSpec[] = [matrix("transformer.wte.weight", [v, c])];
  if (cfg.positional === "learned") specs.push(matrix("transformer.wpe.weight", [t, c]));
  for (let i = 0; i < layers; i++) {
    const h = `transformer.h.${i}`;
    specs.push(
      vector(`${h}.ln_1.weight`, c, "ones"),
      vector(`${h}.ln_1.bias`, c, "zeros"),
      matrix(`${h}.attn.c_attn.weight`, [c, 3 * c]),
      vector(`${h}.attn.c_attn.bias`, 3 * c, "zeros"),
      matrix(`${h}.attn.c_proj.weight`, [c, c], "residual"),
      vector(`${h}.attn.c_proj.bias`, c, "zeros"),
      vector(`${h}.ln_2.weight`, c, "ones"),
      vector(`${h}.ln_2.bias`, c, "zeros"),
      matrix(`${h}.mlp.c_fc.weight`, [c, 4 * c]),
      vector(`${h}.mlp.c_fc.bias`, 4 * c, "zeros"),
      matrix(`${h}.mlp.c_proj.weight`, [4 * c, c], "residual"),
      vector(`${h}.mlp.c_proj.bias`, c, "zeros"),
    );
  }
  specs.push(
    vector("transformer.ln_f.weight", c, "ones"),
    vector("transformer.ln_f.bias", c, "zeros"),
  );
  if (!cfg.tieEmbeddings) specs.push(matrix("lm_head.weight", [v, c]));
  return specs;
}

/**
 * Fresh weights: N(0, 0.02) for matrices and embeddings, N(0, 0.02/√(2·layers)) for the residual
 * projections (each block adds two terms to the residual stream, so its variance stays put), zero
 * biases and unit LayerNorm gains. `normal` draws from N(0, 1) and is the only source of randomness.
 */
export function initParams(cfg: GptConfig, normal: () => number): Map<string, Float32Array> {
  const residualStd = 0.02 / Math.sqrt(2 * cfg.layers);
  const out = new Map<string, Float32Array>();
  for (const spec of paramSpecs(cfg)) {
    const n = spec.shape.reduce((p, d) => p * d, 1);
    const data = new Float32Array(n);
    if (spec.init === "ones") data.fill(1);
    if (spec.init === "normal" || spec.init === "residual") {
      const std = spec.init === "normal" ? 0.02 : residualStd;
      for (let i = 0; i < n; i++) data[i] = normal() * std;
    }
    out.set(spec.name, data);
  }
  return out;
}

/** Number of parameters, and of those outside the embedding tables (the FLOP-count convention). */
export function countParams(cfg: GptConfig): { total: number; nonEmbedding: number } {
  let total = 0, nonEmbedding = 0;
  for (const s of paramSpecs(cfg)) {
    const n = s.shape.reduce((p, d) => p * d, 1);
    total += n;
    if (!s.name.startsWith("transformer.wte") && !s.name.startsWith("transformer.wpe")) {
      nonEmbedding += n;
    }
  }
  return { total, nonEmbedding };
}
