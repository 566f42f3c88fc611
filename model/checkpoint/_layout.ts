/** Names and paths inside a checkpoints directory, shared by the writer and the reader. */
import { InputError } from "../errors.ts";

export const MODEL_FILE = "model.safetensors";
export const CONFIG_FILE = "config.json";
export const TOKENIZER_FILE = "tokenizer.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const STATE_FILE = "state.json";
export const LATEST_FILE = "latest";
/** Files state.json vouches for, in the order they are written. */
export const CHECKED_FILES = [MODEL_FILE, OPTIMIZER_FILE, CONFIG_FILE, TOKENIZER_FILE] as const;
export const STATE_FORMAT = "denoformer-checkpoint/1";
/** Prefix of a directory being written; never a finished checkpoint. */
export const TMP_PREFIX = ".tmp-";
/** Optimizer moment tensor names, PyTorch's words: `exp_avg.<param>` and `exp_avg_sq.<param>`. */
export const M_PREFIX = "exp_avg.";
export const V_PREFIX = "exp_avg_sq.";

const STEP_DIR = /^step-(\d+)$/;

/** `step-000100`: zero-padded to six digits so a directory listing sorts by step. */
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** The step of a directory name like `step-000100`, or undefined. */
export function parseStepDirName(name: string): number | undefined {
  const m = STEP_DIR.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Finished checkpoint directories inside `dir`, oldest first. */
export async function listStepDirs(dir: string): Promise<{ name: string; step: number }[]> {
  const out: { name: string; step: number }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const step = parseStepDirName(e.name);
    if (e.isDirectory && step !== undefined) out.push({ name: e.name, step });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Reads a `latest` pointer file: one line naming a sibling step directory. */
export async function readLatest(path: string): Promise<string> {
  const name = (await Deno.readTextFile(path)).trim();
  if (parseStepDirName(name) === undefined) {
    throw new InputError(path, `Expected a name like "step-000100", got ${JSON.stringify(name)}`);
  }
  return name;
}

export function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : trimmed.slice(0, i);
}

export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** The bytes of `path`; one that cannot be read is an InputError naming it. */
export async function readFileNamed(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new InputError(path, `Cannot read checkpoint file: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `bytes` as strict UTF-8 JSON; anything else is an InputError naming `source`. */
export function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new InputError(source, `Not valid JSON: ${(err as Error).message}`);
  }
}
