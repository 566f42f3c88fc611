import { sha256Hex } from "../model/sha256.ts";
// Not the folder's mod.ts: that brings zod, which every ingest worker thread would load at start.
import { countWords } from "../model/tokenizer/bpe_trainer.ts";
import { splitOf, splitPoint } from "./assign_splits.ts";
import { cleanText } from "./clean_text.ts";
import type { CleanDoc, SplitRule } from "./worker_protocol.ts";

/**
 * Cleans extracted text and gives what the main thread needs to deduplicate, split and store it:
 * UTF-8 bytes, their sha256, the split point and, for a train document, its word counts.
 */
export async function finishDocument(
  text: string,
  code: boolean,
  rule: SplitRule,
): Promise<CleanDoc> {
  const cleaned = cleanText(text, { code });
  const bytes = new TextEncoder().encode(cleaned);
  const sha256 = await sha256Hex(bytes);
  const u = await splitPoint(sha256, rule.seed);
  const train = splitOf(u, rule.valFraction) === "train";
  return {
    bytes,
    sha256,
    // Text in ASCII has a byte for each character; other text is counted.
    characters: bytes.length === cleaned.length ? cleaned.length : countCodePoints(cleaned),
    u,
    ...(rule.countWords && train && cleaned ? { words: countWords(cleaned) } : {}),
  };
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
