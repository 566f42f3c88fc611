/**
 * A small complete checkpoint for the checkpoint tests: a 1-block GPT-2 layout of width 4 with
 * seeded weights, moments, a tokenizer stand-in and training state.
 */
import { type CheckpointContents, gpt2TensorShapes } from "../../model/checkpoint/mod.ts";
import type { GptConfig } from "../../model/gpt/mod.ts";
import { Rng } from "../../model/optim/mod.ts";

export const config: GptConfig = {
  vocabSize: 16,
  contextLength: 8,
  layers: 1,
  heads: 2,
  width: 4,
  dropout: 0,
  positional: "learned",
  tieEmbeddings: true,
  layerNormEpsilon: 1e-5,
};

export function contents(step: number, seed = step): CheckpointContents {
  const rng = new Rng(seed);
  const t = (...shape: number[]) => {
    const data = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, 0.02);
    return { data, shape };
  };
  const tensors = new Map(
    [...gpt2TensorShapes(config)].map(([name, shape]) => [name, t(...shape)]),
  );
  // Values a lossy writer would lose: -0, the smallest subnormal, the largest finite float.
  tensors.get("transformer.ln_f.weight")!.data.set([-0, 1e-45, 3.4028234663852886e38, -1e-45]);
  const moments = (scale: number) =>
    new Map([...tensors].map(([k, v]) => [k, v.data.map((x) => x * scale)] as const));
  return {
    config,
    tensors,
    tokenizerJson: JSON.stringify({ version: "1.0", model: { type: "BPE", vocab: { a: 0 } } }),
    optimizer: { step, m: moments(0.1), v: moments(0.01) },
    state: { step, dataPosition: step * 64, rng: rng.exportState(), lossScale: 65536 },
  };
}
