/**
 * Where the served model comes from: a verified checkpoint directory (model/checkpoint and
 * model/tokenizer), or a seeded random-init preset with the byte codec, for tests and benchmarks.
 */
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
 * Loads and verifies a checkpoint (`loadCheckpoint` checks every file's sha256) and its tokenizer.
 * The checkpoint and tokenizer modules are built on other branches; they are imported when used
 * so the server also runs where only random-init models are available.
 */
export async function checkpointModel(path: string): Promise<ServedModel> {
  const checkpoint = await import(new URL("../../model/checkpoint/mod.ts", import.meta.url).href);
  const tokenizer = await import(new URL("../../model/tokenizer/mod.ts", import.meta.url).href);
  const ckpt = await checkpoint.loadCheckpoint(path);
  const c = ckpt.config;
  const cfg = GptConfig.parse({
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    layers: c.layers,
    heads: c.heads,
    width: c.width,
    positional: c.positional,
    tieEmbeddings: c.tieEmbeddings,
    layerNormEpsilon: c.layerNormEpsilon,
  });
  const codec: TextCodec = tokenizer.fromTokenizerJson(JSON.parse(ckpt.tokenizerJson));
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
