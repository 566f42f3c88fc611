/**
 * Reads a checkpoint directory and verifies it: every file state.json vouches for must have the
 * recorded size and sha256, or the load fails with an error naming that file (InputError for a
 * missing or truncated file, ChecksumError for changed bytes).
 *
 * @example
 * ```ts
 * const ckpt = await loadCheckpoint("runs/a"); // or runs/a/checkpoints, …/latest, …/step-000100
 * ckpt.tensors.get("transformer.wte.weight"); // { data: Float32Array, shape: [4096, 128] }
 * adamw.importState(ckpt.optimizer);
 * ```
 */
import { z } from "zod";
import { ChecksumError, InputError } from "../errors.ts";
import { sha256Hex } from "../sha256.ts";
import type { AdamWState } from "../optim/mod.ts";
import { dtypeToFloat32 } from "./dtype_convert.ts";
import { fromHfConfig } from "./hf_config.ts";
import type { GptConfig } from "../gpt/config.ts";
import { decodeModelWeights } from "./model_weights.ts";
import { decodeSafetensors } from "./safetensors.ts";
import type { CheckpointTensor, TrainingState } from "./save_checkpoint.ts";
import {
  basename,
  CHECKED_FILES,
  CONFIG_FILE,
  dirname,
  exists,
  join,
  LATEST_FILE,
  listStepDirs,
  M_PREFIX,
  MODEL_FILE,
  OPTIMIZER_FILE,
  parseJson,
  readFileNamed,
  readLatest,
  STATE_FILE,
  STATE_FORMAT,
  TOKENIZER_FILE,
  V_PREFIX,
} from "./_layout.ts";

/** A verified checkpoint. Tensors are fresh fp32 copies the caller owns. */
export interface LoadedCheckpoint {
  /** The step directory that was read. */
  path: string;
  config: GptConfig;
  /** config.json as stored (Hugging Face keys plus `denoformer`). */
  hfConfig: Record<string, unknown>;
  tensors: Map<string, CheckpointTensor>;
  tokenizerJson: string;
  optimizer: AdamWState;
  state: TrainingState;
  sha256: Record<string, string>;
}

const StateFile = z.object({
  format: z.literal(STATE_FORMAT),
  step: z.number().int().nonnegative(),
  files: z.record(
    z.string(),
    z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }),
  ),
  state: z.object({ step: z.number().int().nonnegative() }).loose(),
});

/** Loads and verifies a checkpoint: `path` is a run dir, its `checkpoints/`, `latest`, or a step dir. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpointDir(path);
  const statePath = join(dir, STATE_FILE);
  const stateJson = StateFile.safeParse(parseJson(await readFileNamed(statePath), statePath));
  if (!stateJson.success) {
    throw new InputError(statePath, stateJson.error.issues.map((i) => i.message).join("; "));
  }
  const files = new Map<string, Uint8Array>();
  for (const name of CHECKED_FILES) {
    const filePath = join(dir, name);
    const record = stateJson.data.files[name];
    if (record === undefined) throw new InputError(statePath, `No checksum recorded for "${name}"`);
    const bytes = await readFileNamed(filePath);
    if (bytes.length !== record.bytes) {
      throw new InputError(
        filePath,
        `File is ${bytes.length} bytes but state.json records ${record.bytes}: ` +
          `${bytes.length < record.bytes ? "truncated" : "grown"} since it was written`,
      );
    }
    const actual = await sha256Hex(bytes);
    if (actual !== record.sha256) throw new ChecksumError(filePath, record.sha256, actual);
    files.set(name, bytes);
  }

  // The config first: every tensor is checked against it before one is converted.
  const configPath = join(dir, CONFIG_FILE);
  const hfConfig = parseJson(files.get(CONFIG_FILE)!, configPath) as Record<string, unknown>;
  const config = fromHfConfig(hfConfig, configPath);
  const tensors = decodeModelWeights(files.get(MODEL_FILE)!, config, join(dir, MODEL_FILE));
  return {
    path: dir,
    config,
    hfConfig,
    tensors,
    tokenizerJson: new TextDecoder().decode(files.get(TOKENIZER_FILE)!),
    optimizer: decodeOptimizer(files.get(OPTIMIZER_FILE)!, join(dir, OPTIMIZER_FILE)),
    state: stateJson.data.state as TrainingState,
    sha256: Object.fromEntries(CHECKED_FILES.map((n) => [n, stateJson.data.files[n].sha256])),
  };
}

/**
 * The step directory `path` designates: a step dir itself (holds state.json), a `latest` file, a
 * checkpoints dir (holds `latest`, or else step dirs: the newest wins), or a run dir holding
 * `checkpoints/`.
 */
export async function resolveCheckpointDir(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new InputError(path, `No checkpoint here: ${(err as Error).message}`, { cause: err });
  }
  if (info.isFile) {
    if (basename(path) !== LATEST_FILE) {
      throw new InputError(path, `Expected a checkpoint directory or a "latest" file`);
    }
    return join(dirname(path), await readLatest(path));
  }
  if (await exists(join(path, STATE_FILE))) return path;
  if (await exists(join(path, LATEST_FILE))) {
    return join(path, await readLatest(join(path, LATEST_FILE)));
  }
  const steps = await listStepDirs(path);
  if (steps.length > 0) return join(path, steps[steps.length - 1].name);
  if (await exists(join(path, "checkpoints"))) {
    return resolveCheckpointDir(join(path, "checkpoints"));
  }
  throw new InputError(
    path,
    `Not a checkpoint: no state.json, "latest", step-* directory or checkpoints/ inside`,
  );
}

function decodeOptimizer(bytes: Uint8Array, source: string): AdamWState {
  const file = decodeSafetensors(bytes, source);
  const step = Number(file.metadata.step);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new InputError(source, `Metadata "step" is ${JSON.stringify(file.metadata.step)}`);
  }
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    const data = dtypeToFloat32(t.data, t.dtype, `${source}: ${name}`);
    if (name.startsWith(V_PREFIX)) v.set(name.slice(V_PREFIX.length), data);
    else if (name.startsWith(M_PREFIX)) m.set(name.slice(M_PREFIX.length), data);
    else throw new InputError(source, `Unexpected tensor "${name}"`);
  }
  return { step, m, v };
}
