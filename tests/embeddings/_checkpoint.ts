/**
 * A small real checkpoint for the embeddings tests: a BPE tokenizer trained on the GPL-3 text every
 * Debian system ships, and a 2-layer GPT trained on it for a few dozen steps, saved with
 * saveCheckpoint and read back with loadCheckpoint.
 */
import {
  loadCheckpoint,
  type LoadedCheckpoint,
  saveCheckpoint,
} from "../../model/checkpoint/mod.ts";
import { GptConfig } from "../../model/gpt/mod.ts";
import { toTokenizerJson, trainBpe } from "../../model/tokenizer/mod.ts";
import { TrainConfig, Trainer } from "../../model/train/mod.ts";

/** Trains and saves; returns the checkpoint directory (under a fresh temp dir) and its contents. */
export async function smallCheckpoint(
  positional: "learned" | "sinusoidal" = "learned",
  steps = 30,
): Promise<{ dir: string; ckpt: LoadedCheckpoint }> {
  const text = Deno.readTextFileSync("/usr/share/common-licenses/GPL-3");
  const tok = trainBpe([text], { vocabSize: 512 });
  const tokens = Uint16Array.from(tok.encode(text));
  const trainer = await Trainer.create({
    model: GptConfig.parse({
      vocabSize: tok.vocabSize,
      contextLength: 32,
      layers: 2,
      heads: 2,
      width: 64,
      positional,
    }),
    train: TrainConfig.parse({
      microBatch: 8,
      steps,
      lr: 3e-3,
      warmupSteps: Math.min(3, steps),
      evalEvery: 0,
    }),
    trainTokens: tokens,
    tokenizerJson: JSON.stringify(toTokenizerJson(tok)),
    threads: 1,
  });
  while (trainer.step < steps) await trainer.trainStep();
  const dir = await Deno.makeTempDir({ prefix: "embeddings_test_" });
  const saved = await saveCheckpoint(`${dir}/checkpoints`, await trainer.checkpointContents());
  return { dir, ckpt: await loadCheckpoint(saved.path) };
}
