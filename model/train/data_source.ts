/**
 * Where training tokens come from: an ingest output directory (manifest, verified shards and the
 * tokenizer it trained), or a plain UTF-8 text file read with the byte-level vocabulary.
 */
import { loadTokens, readManifest } from "../data/mod.ts";
import { InputError } from "../errors.ts";
import {
  type BpeTokenizer,
  byteTokenizer,
  END_OF_TEXT,
  toTokenizerJson,
} from "../tokenizer/mod.ts";

/** Tokens of both splits and the tokenizer that made them. */
export interface TrainingData {
  train: Uint16Array | Uint32Array;
  val: Uint16Array | Uint32Array;
  tokenizerJson: string;
  vocabSize: number;
}

/**
 * Loads `path` (ingest directory or text file); `flag` names the option in errors. A text file is
 * encoded with `tokenizer` (a pretrained model's), or else the byte-level vocabulary.
 */
export async function loadTrainingData(
  path: string,
  flag = "--data",
  tokenizer: BpeTokenizer = byteTokenizer(),
): Promise<TrainingData> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new InputError(flag, `"${path}" does not exist`);
  }
  if (info.isDirectory) {
    const manifest = await readManifest(path);
    return {
      train: await loadTokens(path, "train"),
      val: await loadTokens(path, "val"),
      tokenizerJson: await Deno.readTextFile(`${path}/${manifest.tokenizer.file}`),
      vocabSize: manifest.tokenizer.vocabSize,
    };
  }
  const bytes = await Deno.readFile(path);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(flag, `"${path}" is not UTF-8 text; run \`deno task ingest\` on it first`);
  }
  const tok = tokenizer;
  const ids = (tok.vocabSize <= 1 << 16 ? Uint16Array : Uint32Array).from(
    tok.encode(text + END_OF_TEXT),
  );
  // The last tenth is held out for validation, cut at a token boundary.
  const cut = Math.floor(ids.length * 0.9);
  return {
    train: ids.subarray(0, cut),
    val: ids.subarray(cut),
    tokenizerJson: JSON.stringify(toTokenizerJson(tok)),
    vocabSize: tok.vocabSize,
  };
}
