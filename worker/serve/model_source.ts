/**
 * Where the served model comes from: a verified checkpoint directory or a Hugging Face GPT-2
 * directory (model/checkpoint and model/tokenizer), or a seeded random-init preset with the byte codec, for tests and benchmarks.
 */
import { loadModelDir } from "../../model/checkpoint/mod.ts";
import { fromTokenizerJson } from "../../model/tokenizer/mod.ts";
import {
  GptConfig,
  initParams,
  paramSpecs,
  type PresetName,
  presets,
} from "../../model/gpt/mod.ts";
import type { WeightTable } from "../../model/infer/mod.ts";
import { seededRandom } from "./sampling.ts";
import { byteCodec, type TextCodec } from "./text_codec.ts";

/** A model ready for the engine. */
export interface ServedModel {
  cfg: GptConfig;
  weights: WeightTable;
  codec: TextCodec;
  /** For ModelInfo: the checkpoint path or `random:PRESET:SEED`. */
  name: string;
}

/**
 * Loads and verifies a checkpoint (`loadCheckpoint` checks every file's sha256), or a Hugging Face
 * GPT-2 directory, and its tokenizer.
 */
export async function checkpointModel(path: string): Promise<ServedModel> {
  const ckpt = await loadModelDir(path);
  // Inference has no dropout; the rest of the config travels with the weights.
  const cfg = GptConfig.parse({ ...ckpt.config, dropout: 0 });
  const codec: TextCodec = fromTokenizerJson(JSON.parse(ckpt.tokenizerJson));
  return { cfg, weights: ckpt.tensors, codec, name: ckpt.path };
}

/** A seeded random-init model of `preset` (GPT-2's init) with the byte codec. */
export function randomModel(
  preset: PresetName,
  options: { seed: number; vocabSize?: number; contextLength?: number },
): ServedModel {
  const cfg = GptConfig.parse({
    ...presets[preset],
    ...(options.vocabSize ? { vocabSize: options.vocabSize } : {}),
    ...(options.contextLength ? { contextLength: options.contextLength } : {}),
  });
  const params = initParams(cfg, seededNormal(options.seed));
  const weights = new Map(
    paramSpecs(cfg).map((s) => [s.name, { data: params.get(s.name)!, shape: s.shape }]),
  );
  return {
    cfg,
    weights,
    codec: byteCodec(cfg.vocabSize),
    name: `random:${preset}:${options.seed}`,
  };
}

function seededNormal(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}
