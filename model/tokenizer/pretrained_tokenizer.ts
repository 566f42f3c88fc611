/**
 * A pretrained byte-level BPE tokenizer as a model hub ships it: a `tokenizer.json`, or GPT-2's
 * original pair `vocab.json` + `merges.txt` (the same files as `encoder.json` + `vocab.bpe`).
 * In the original pair `<|endoftext|>` is an ordinary vocabulary entry; Hugging Face's
 * GPT2Tokenizer treats it as special, and so does this loader, along with any `added_tokens.json`.
 *
 * @example
 * ```ts
 * const tok = await loadPretrainedTokenizer("gpt2/"); // tokenizer.json, or vocab.json + merges.txt
 * tok.encode("Hello world<|endoftext|>"); // [15496, 995, 50256]
 * ```
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import { END_OF_TEXT } from "./bpe_tokenizer.ts";
import type { BpeTokenizer } from "./bpe_tokenizer.ts";
import { fromTokenizerJson, loadTokenizer } from "./tokenizer_json.ts";

const Vocab = z.record(z.string(), z.number().int().nonnegative());

/**
 * Loads the tokenizer at `path`: a tokenizer.json file, or a directory holding tokenizer.json, or
 * vocab.json and merges.txt. Errors name the file at fault.
 */
export async function loadPretrainedTokenizer(path: string): Promise<BpeTokenizer> {
  const info = await statOrThrow(path);
  if (info.isFile) return await loadTokenizer(path);
  const dir = path.replace(/\/+$/, "");
  if (await isFile(`${dir}/tokenizer.json`)) return await loadTokenizer(`${dir}/tokenizer.json`);
  if (!(await isFile(`${dir}/vocab.json`)) || !(await isFile(`${dir}/merges.txt`))) {
    throw new InputError(
      dir,
      "No tokenizer: expected tokenizer.json, or vocab.json and merges.txt",
    );
  }
  const vocab = parseJsonFile(
    Vocab,
    `${dir}/vocab.json`,
    await Deno.readTextFile(`${dir}/vocab.json`),
  );
  const merges = parseMerges(await Deno.readTextFile(`${dir}/merges.txt`));
  const added = await isFile(`${dir}/added_tokens.json`)
    ? parseJsonFile(
      Vocab,
      `${dir}/added_tokens.json`,
      await Deno.readTextFile(`${dir}/added_tokens.json`),
    )
    : {};
  const specials = {
    ...(END_OF_TEXT in vocab ? { [END_OF_TEXT]: vocab[END_OF_TEXT] } : {}),
    ...added,
  };
  return fromTokenizerJson({
    added_tokens: Object.entries(specials).map(([content, id]) => ({ id, content, special: true })),
    pre_tokenizer: { type: "ByteLevel" },
    model: { type: "BPE", vocab: { ...vocab, ...added }, merges },
  }, `${dir}/vocab.json`);
}

/** merges.txt: an optional `#version` line, then one merge per line, its two parts split by a space. */
function parseMerges(text: string): string[] {
  return text.split("\n").filter((line, i) => line !== "" && !(i === 0 && line.startsWith("#")));
}

function parseJsonFile<T>(schema: z.ZodType<T>, path: string, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(path, `Invalid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new InputError(
      path,
      `Expected an object of token → id: ${parsed.error.issues[0].message}`,
    );
  }
  return parsed.data;
}

async function statOrThrow(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    throw new InputError(path, `No tokenizer here: ${(err as Error).message}`, { cause: err });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
