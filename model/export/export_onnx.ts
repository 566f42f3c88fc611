/**
 * Writes a model as a folder transformers.js (and Optimum's ORTModelForCausalLM) loads, in the
 * layout of the Hub's ONNX GPT-2 repositories (Xenova/gpt2, onnx-community):
 *
 * ```
 * OUT/
 *   config.json              GPT-2 config (model_type "gpt2", n_head, n_layer, n_embd …)
 *   generation_config.json   bos/eos token ids
 *   tokenizer.json           the model's tokenizer, verbatim
 *   tokenizer_config.json    GPT2Tokenizer, <|endoftext|> as bos/eos/unk
 *   model.safetensors        the weights in GPT-2's layout (Python transformers loads OUT too)
 *   onnx/model.onnx          the decoder with past key/values (see onnx_decoder.ts)
 * ```
 *
 * The folder is written next to OUT and renamed into place, so OUT is complete or absent.
 *
 * @example
 * ```ts
 * await exportOnnx(await loadModelDir("runs/a"), "exports/a");
 * ```
 */
import { atomicWriteFile, atomicWriteText } from "../atomic_write.ts";
import { encodeSafetensors, type ModelFiles, toHfConfig } from "../checkpoint/mod.ts";
import { InputError } from "../errors.ts";
import { END_OF_TEXT, fromTokenizerJson } from "../tokenizer/mod.ts";
import { buildOnnxDecoder } from "./onnx_decoder.ts";

/** What an export wrote. */
export interface ExportedModel {
  dir: string;
  files: string[];
}

/** Exports `model` to the new folder `out`; refuses an `out` that exists. */
export async function exportOnnx(model: ModelFiles, out: string): Promise<ExportedModel> {
  if (await Deno.lstat(out).then(() => true, () => false)) {
    throw new InputError(out, "Already exists: export into a new folder");
  }
  const tokenizer = fromTokenizerJson(JSON.parse(model.tokenizerJson), `${model.path}/tokenizer`);
  const eos = tokenizer.endOfTextId >= 0 ? tokenizer.endOfTextId : null;
  const special = eos === null ? null : END_OF_TEXT;
  const files: Record<string, string | Uint8Array> = {
    "config.json": json({ ...toHfConfig(model.config), bos_token_id: eos, eos_token_id: eos }),
    "generation_config.json": json({ bos_token_id: eos, eos_token_id: eos }),
    "tokenizer.json": model.tokenizerJson,
    "tokenizer_config.json": json({
      tokenizer_class: "GPT2Tokenizer",
      bos_token: special,
      eos_token: special,
      unk_token: special,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      model_max_length: model.config.contextLength,
    }),
    "model.safetensors": encodeSafetensors(
      new Map([...model.tensors].map(([name, t]) => [name, { dtype: "F32", ...t }])),
      { format: "pt" },
    ),
    "onnx/model.onnx": buildOnnxDecoder(model.config, model.tensors).toModel(),
  };
  const tmp = `${out.replace(/\/+$/, "")}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.mkdir(`${tmp}/onnx`, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      if (typeof content === "string") await atomicWriteText(`${tmp}/${name}`, content);
      else await atomicWriteFile(`${tmp}/${name}`, content);
    }
    await Deno.rename(tmp, out);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  return { dir: out, files: Object.keys(files) };
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
