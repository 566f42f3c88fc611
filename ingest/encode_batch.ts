import { concatTokens, type ShardDtype } from "../model/data/mod.ts";
import type { BpeTokenizer } from "../model/tokenizer/mod.ts";
import { readAt } from "./spill_file.ts";
import type { EncodedBatch } from "./worker_protocol.ts";

/**
 * Encodes documents read from the spill file, each followed by `<|endoftext|>`. `encodeOrdinary`
 * never turns text into special ids, so a document cannot forge an end of text.
 */
export async function encodeBatch(
  spill: Deno.FsFile,
  tokenizer: BpeTokenizer,
  ranges: readonly [number, number][],
  dtype: ShardDtype,
): Promise<EncodedBatch> {
  const eot = tokenizer.endOfTextId;
  if (eot < 0) throw new RangeError(`Tokenizer has no "<|endoftext|>" token`);
  const decoder = new TextDecoder();
  const parts: number[][] = [];
  for (const [offset, length] of ranges) {
    const ids = tokenizer.encodeOrdinary(decoder.decode(await readAt(spill, offset, length)));
    ids.push(eot);
    parts.push(ids);
  }
  return { tokens: concatTokens(parts, dtype), lengths: parts.map((p) => p.length) };
}
