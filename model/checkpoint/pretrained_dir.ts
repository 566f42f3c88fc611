/**
 * A GPT-2-family directory as a model hub ships it (`config.json`, `model.safetensors` in fp32,
 * fp16 or bf16, and `tokenizer.json` or `vocab.json` + `merges.txt`), read into the same weights a
 * checkpoint holds. What older files carry besides the weights is accepted: tensor names without
 * the `transformer.` prefix (saved from GPT2Model), the `attn.bias` / `attn.masked_bias` buffers,
 * and a tied `lm_head.weight` stored next to `wte`. What the model cannot represent is refused by
 * name: another architecture or activation (config.json), weights only in a PyTorch pickle, sharded
 * weights.
 *
 * @example
 * ```ts
 * const model = await loadModelDir("gpt2/"); // or a run directory / checkpoint
 * model.config.width; // 768
 * ```
 */
import { InputError } from "../errors.ts";
import type { GptConfig } from "../gpt/config.ts";
import { loadPretrainedTokenizer, toTokenizerJson } from "../tokenizer/mod.ts";
import { exists, join, parseJson, readFileNamed } from "./_layout.ts";
import { fromHfConfig } from "./hf_config.ts";
import { loadCheckpoint } from "./load_checkpoint.ts";
import { toFloat32Weights } from "./model_weights.ts";
import { decodeSafetensors, type TensorRead } from "./safetensors.ts";
import type { CheckpointTensor, TrainingState } from "./save_checkpoint.ts";

/** Weights, config and tokenizer of a model, whichever kind of directory they came from. */
export interface ModelFiles {
  /** The directory read (for a checkpoint, its step directory). */
  path: string;
  config: GptConfig;
  /** config.json as stored. */
  hfConfig: Record<string, unknown>;
  tensors: Map<string, CheckpointTensor>;
  tokenizerJson: string;
  /** The training state of a checkpoint; absent for a model hub directory. */
  state?: TrainingState;
}

/** Weight files the model cannot read, and what to do about each. */
const UNREADABLE: Record<string, string> = {
  "pytorch_model.bin": "PyTorch pickles are not read (loading one can run code): convert it to " +
    "model.safetensors (transformers: save_pretrained(dir, safe_serialization=True))",
  "model.safetensors.index.json": "Sharded weights are not supported: merge them into one " +
    "model.safetensors",
  "tf_model.h5": "TensorFlow weights are not read: convert them to model.safetensors",
  "flax_model.msgpack": "Flax weights are not read: convert them to model.safetensors",
};

/**
 * Reads `path`: a Denoformer run or checkpoint directory (verified as by `loadCheckpoint`), or a
 * Hugging Face GPT-2 directory (config.json without state.json).
 */
export async function loadModelDir(path: string): Promise<ModelFiles> {
  const isHf = await exists(join(path, "config.json")) && !(await exists(join(path, "state.json")));
  return isHf ? await loadPretrained(path) : await loadCheckpoint(path);
}

/** Reads a Hugging Face GPT-2 directory; see the module doc. */
export async function loadPretrained(dir: string): Promise<ModelFiles> {
  const configPath = join(dir, "config.json");
  const hfConfig = await readJson(configPath);
  const config = fromHfConfig(hfConfig, configPath);
  const modelPath = join(dir, "model.safetensors");
  if (!(await exists(modelPath))) {
    for (const [file, why] of Object.entries(UNREADABLE)) {
      if (await exists(join(dir, file))) throw new InputError(join(dir, file), why);
    }
    throw new InputError(modelPath, "Missing: the weights must be in model.safetensors");
  }
  const file = decodeSafetensors(await readFileNamed(modelPath), modelPath);
  const tensors = toFloat32Weights(gpt2Names(file.tensors, config, modelPath), config, modelPath);
  const tokenizer = await loadPretrainedTokenizer(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new InputError(
      dir,
      `The tokenizer has ${tokenizer.vocabSize} tokens, config.json's vocab_size only ${config.vocabSize}`,
    );
  }
  const tokenizerJson = await exists(join(dir, "tokenizer.json"))
    ? await Deno.readTextFile(join(dir, "tokenizer.json"))
    : JSON.stringify(toTokenizerJson(tokenizer));
  return { path: dir, config, hfConfig, tensors, tokenizerJson };
}

const BUFFER = /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/;
const HEAD = "lm_head.weight", WTE = "transformer.wte.weight";

/**
 * The tensors under the names a checkpoint uses: `transformer.` prefixed, attention buffers
 * dropped (the causal mask is built, not stored), and a tied head dropped once it is seen to equal
 * `wte` (a differing one would be silently ignored by transformers, so it is refused).
 */
function gpt2Names(
  tensors: ReadonlyMap<string, TensorRead>,
  config: GptConfig,
  source: string,
): Map<string, TensorRead> {
  const out = new Map<string, TensorRead>();
  for (const [stored, t] of tensors) {
    const name = stored === HEAD || stored.startsWith("transformer.")
      ? stored
      : `transformer.${stored}`;
    if (BUFFER.test(name)) continue;
    if (out.has(name)) throw new InputError(`${source}: ${stored}`, `Stored twice as "${name}"`);
    out.set(name, t);
  }
  const head = out.get(HEAD), wte = out.get(WTE);
  if (config.tieEmbeddings && head && wte) {
    if (head.dtype !== wte.dtype || !sameBytes(head.data, wte.data)) {
      throw new InputError(
        `${source}: ${HEAD}`,
        `Differs from ${WTE} but config.json ties them (tie_word_embeddings): set ` +
          `"tie_word_embeddings": false to keep a separate head`,
      );
    }
    out.delete(HEAD);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const json = parseJson(await readFileNamed(path), path);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(path, "Not a JSON object");
  }
  return json as Record<string, unknown>;
}
