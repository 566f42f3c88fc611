import { sha256 } from "../model/sha256.ts";

/** A split name. */
export type Split = "train" | "val";

/**
 * A document's place in [0, 1), from a hash of the seed and its text hash: it picks the split
 * (val below `valFraction`) and orders documents within a split, so neither depends on file order
 * or on which other files are present.
 */
export async function splitPoint(textSha256: string, seed: number): Promise<number> {
  const digest = await sha256(new TextEncoder().encode(`${seed}:${textSha256}`));
  return new DataView(digest.buffer).getUint32(0) / 2 ** 32;
}

/** The split of a document at `u`. */
export function splitOf(u: number, valFraction: number): Split {
  return u < valFraction ? "val" : "train";
}

/**
 * With two or more documents and a positive `valFraction`, each split gets at least one: when one
 * split is empty, the document nearest to it moves (the lowest `u` to val, the highest to train).
 * Returns the index to move and where, or undefined when both splits have documents.
 */
export function balanceSplits(
  points: readonly number[],
  valFraction: number,
): { index: number; to: Split } | undefined {
  if (points.length < 2 || valFraction <= 0) return undefined;
  let lo = 0, hi = 0, val = 0;
  points.forEach((u, i) => {
    if (u < valFraction) val++;
    if (u < points[lo]) lo = i;
    if (u >= points[hi]) hi = i;
  });
  if (val === 0) return { index: lo, to: "val" };
  if (val === points.length) return { index: hi, to: "train" };
  return undefined;
}
