/**
 * Writes a checkpoint directory atomically: every file goes into `.tmp-step-…-<uuid>/` inside the
 * checkpoints directory and is fsynced, the directory is renamed to `step-NNNNNN`, then the `latest`
 * pointer file is replaced atomically, then all but the newest `keepLast` checkpoints are removed.
 * Saving a step that exists swaps the new directory with the old one in one step (Linux); a crash
 * at any point leaves `latest` on a whole checkpoint, the previous one or the new one. A leftover
 * temporary directory is never read and is removed by the next save, and a save that fails (a
 * full disk) removes its own. One writer per checkpoints directory.
 *
 * `latest` is a small file holding the step directory's name, not a symlink: a file is replaced
 * atomically by rename on every platform, and survives copies, archives and transfers that drop or
 * dereference symlinks.
 *
 * @example
 * ```ts
 * const { path } = await saveCheckpoint("runs/a/checkpoints", {
 *   config, tensors, tokenizerJson, optimizer: adamw.exportState(),
 *   state: { step: 100, dataPosition: 12800, rng: rng.exportState(), lossScale: 65536 },
 * }, { keepLast: 3 });
 * // path === "runs/a/checkpoints/step-000100"
 * ```
 */
import { atomicWriteFile, atomicWriteText, syncDirectory } from "../atomic_write.ts";
import { exchangePaths } from "./_exchange.ts";
import { InputError } from "../errors.ts";
import { sha256Hex } from "../sha256.ts";
import type { AdamWState } from "../optim/mod.ts";
import { toHfConfig } from "./hf_config.ts";
import type { GptConfig } from "../gpt/config.ts";
import { sinusoidalTable } from "../gpt/positional.ts";
import { elementCount, encodeSafetensors, type TensorToWrite } from "./safetensors.ts";
import {
  CONFIG_FILE,
  exists,
  join,
  LATEST_FILE,
  listStepDirs,
  M_PREFIX,
  MODEL_FILE,
  OPTIMIZER_FILE,
  readLatest,
  STATE_FILE,
  STATE_FORMAT,
  stepDirName,
  TMP_PREFIX,
  TOKENIZER_FILE,
  V_PREFIX,
} from "./_layout.ts";

/** One fp32 tensor with its shape (Hugging Face GPT-2 layout, e.g. Conv1D weights as [in, out]). */
export interface CheckpointTensor {
  data: Float32Array;
  shape: readonly number[];
}

/** Training state stored in state.json; any JSON. `step` names the directory. */
export interface TrainingState {
  step: number;
  [key: string]: unknown;
}

/** Everything a checkpoint holds. */
export interface CheckpointContents {
  config: GptConfig;
  /**
   * Hugging Face GPT-2 names; with tied embeddings `transformer.wte.weight` only, no `lm_head`.
   * With sinusoidal positions the fixed table is written as `transformer.wpe.weight` when absent.
   */
  tensors: ReadonlyMap<string, CheckpointTensor>;
  /** The tokenizer in Hugging Face tokenizers JSON, stored verbatim. */
  tokenizerJson: string;
  optimizer: AdamWState;
  state: TrainingState;
}

/** Options for {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** How many checkpoints to keep, newest first; 0 keeps all. Default 3. */
  keepLast?: number;
}

/** What was written: the step directory and the sha256 of each file state.json vouches for. */
export interface SavedCheckpoint {
  path: string;
  sha256: Record<string, string>;
}

/** Saves a checkpoint under `checkpointsDir` (e.g. `RUN/checkpoints`); see the module doc. */
export async function saveCheckpoint(
  checkpointsDir: string,
  contents: CheckpointContents,
  options: SaveCheckpointOptions = {},
): Promise<SavedCheckpoint> {
  const keepLast = options.keepLast ?? 3;
  const { step } = contents.state;
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new InputError("state.step", `Expected a non-negative integer, got ${step}`);
  }
  checkTying(contents);
  const files = encodeFiles(contents);

  await Deno.mkdir(checkpointsDir, { recursive: true });
  await removeLeftovers(checkpointsDir);
  const name = stepDirName(step);
  const tmp = join(checkpointsDir, `${TMP_PREFIX}${name}-${crypto.randomUUID()}`);
  const sha256 = await writeFiles(tmp, files, contents.state);
  const final = join(checkpointsDir, name);
  await publish(checkpointsDir, tmp, step);
  await syncDirectory(checkpointsDir);
  await atomicWriteText(join(checkpointsDir, LATEST_FILE), name + "\n");
  if (keepLast > 0) await prune(checkpointsDir, keepLast, name);
  return { path: final, sha256 };
}

/** Writes the checkpoint's files and state.json into `tmp`; removes it if that fails. */
async function writeFiles(
  tmp: string,
  files: [string, Uint8Array][],
  state: TrainingState,
): Promise<Record<string, string>> {
  await Deno.mkdir(tmp);
  try {
    const sha256: Record<string, string> = {};
    const recorded: Record<string, { sha256: string; bytes: number }> = {};
    for (const [file, bytes] of files) {
      await atomicWriteFile(join(tmp, file), bytes);
      sha256[file] = await sha256Hex(bytes);
      recorded[file] = { sha256: sha256[file], bytes: bytes.length };
    }
    const stateJson = { format: STATE_FORMAT, step: state.step, files: recorded, state };
    await atomicWriteText(join(tmp, STATE_FILE), JSON.stringify(stateJson, null, 2) + "\n");
    await syncDirectory(tmp);
    return sha256;
  } catch (err) {
    // A full disk: give the space back now rather than at the next save.
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Renames the finished `tmp` to the step directory `name`. When that exists (the step is saved
 * again: the final step of a run whose --steps is a multiple of --checkpoint-every, or a replay)
 * the two are swapped in one step, so `name` is whole at every instant, and the old one removed.
 * Where no swap is possible, `latest` points at an older checkpoint, if any, while the old one
 * is moved aside and the new one in.
 */
async function publish(dir: string, tmp: string, step: number): Promise<void> {
  const name = stepDirName(step);
  const final = join(dir, name);
  if (!(await exists(final))) return await Deno.rename(tmp, final);
  if (!exchangePaths(tmp, final)) {
    const latest = join(dir, LATEST_FILE);
    const older = (await listStepDirs(dir)).filter((d) => d.step < step).at(-1);
    if (older && (await readLatest(latest).catch(() => undefined)) === name) {
      await atomicWriteText(latest, older.name + "\n");
    }
    const aside = join(dir, `${TMP_PREFIX}old-${name}-${crypto.randomUUID()}`);
    await Deno.rename(final, aside);
    await Deno.rename(tmp, final);
    tmp = aside;
  }
  await Deno.remove(tmp, { recursive: true }); // the old checkpoint
}

function encodeFiles(c: CheckpointContents): [string, Uint8Array][] {
  const model = new Map<string, TensorToWrite>();
  for (const [name, t] of withPositionTable(c)) {
    if (elementCount(t.shape) !== t.data.length) {
      throw new InputError(
        name,
        `Shape [${t.shape.join(", ")}] needs ${elementCount(t.shape)} elements, data has ` +
          `${t.data.length}`,
      );
    }
    model.set(name, { dtype: "F32", shape: t.shape, data: t.data });
  }
  const moments = new Map<string, TensorToWrite>();
  for (const [prefix, src] of [[M_PREFIX, c.optimizer.m], [V_PREFIX, c.optimizer.v]] as const) {
    for (const [name, data] of src) {
      const shape = c.tensors.get(name)?.shape;
      const fits = shape !== undefined && elementCount(shape) === data.length;
      moments.set(prefix + name, { dtype: "F32", shape: fits ? shape : [data.length], data });
    }
  }
  checkNoSharedMemory([...model, ...moments].map(([name, t]) => [name, t.data]));
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    [MODEL_FILE, encodeSafetensors(model, { format: "pt" })],
    [
      OPTIMIZER_FILE,
      encodeSafetensors(moments, { format: "denoformer-adamw", step: String(c.optimizer.step) }),
    ],
    [CONFIG_FILE, text(JSON.stringify(toHfConfig(c.config), null, 2) + "\n")],
    [TOKENIZER_FILE, text(c.tokenizerJson)],
  ];
}

/**
 * The tensors to store: with sinusoidal positions, the fixed table too, as GPT-2's learned one.
 * Added to the token embeddings exactly as GPT-2 adds `wpe`, it lets a GPT-2 loader (which reads
 * config.json's Hugging Face keys and knows nothing of sinusoids) run the model unchanged.
 */
function withPositionTable(c: CheckpointContents): ReadonlyMap<string, CheckpointTensor> {
  const { positional, contextLength, width } = c.config;
  if (positional !== "sinusoidal" || c.tensors.has(WPE)) return c.tensors;
  const table = { data: sinusoidalTable(contextLength, width), shape: [contextLength, width] };
  return new Map([...c.tensors, [WPE, table]]);
}

const WPE = "transformer.wpe.weight";

/** GPT-2 convention: a tied head is not stored; an untied one must be. */
function checkTying(c: CheckpointContents): void {
  const hasHead = c.tensors.has("lm_head.weight");
  if (c.config.tieEmbeddings && hasHead) {
    throw new InputError(
      "lm_head.weight",
      "Tied embeddings store transformer.wte.weight only: drop lm_head.weight",
    );
  }
  if (!c.config.tieEmbeddings && c.tensors.has("transformer.wte.weight") && !hasHead) {
    throw new InputError("lm_head.weight", "Untied embeddings need lm_head.weight in the tensors");
  }
}

/** Two names backed by overlapping memory would store one buffer twice (safetensors forbids it). */
function checkNoSharedMemory(views: [string, ArrayBufferView][]): void {
  const byBuffer = new Map<ArrayBufferLike, [string, number, number][]>();
  for (const [name, v] of views) {
    if (v.byteLength === 0) continue;
    const list = byBuffer.get(v.buffer) ?? [];
    list.push([name, v.byteOffset, v.byteOffset + v.byteLength]);
    byBuffer.set(v.buffer, list);
  }
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a[1] - b[1]);
    for (let i = 1; i < list.length; i++) {
      if (list[i][1] < list[i - 1][2]) {
        throw new InputError(
          list[i][0],
          `Shares memory with "${list[i - 1][0]}": store a shared (tied) tensor once`,
        );
      }
    }
  }
}

async function removeLeftovers(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(TMP_PREFIX)) await Deno.remove(join(dir, e.name), { recursive: true });
  }
}

async function prune(dir: string, keepLast: number, newest: string): Promise<void> {
  const all = await listStepDirs(dir);
  const doomed = all.slice(0, Math.max(0, all.length - keepLast)).filter((d) => d.name !== newest);
  for (const d of doomed) await Deno.remove(join(dir, d.name), { recursive: true });
}
