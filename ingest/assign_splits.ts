import { createHash } from "node:crypto";

/** A document's split and its position in the seeded order. */
export interface SplitAssignment {
  split: "train" | "val";
  /** Uniform in [0, 1), from the seed and the document's text hash. */
  u: number;
}

/**
 * Assigns each document to train or val from a hash of the seed and its text hash, so the split does
 * not depend on file order or on which other files are present. With two or more documents and a
 * positive `valFraction`, each split gets at least one document.
 */
export function assignSplits(
  textHashes: readonly string[],
  valFraction: number,
  seed: number,
): SplitAssignment[] {
  const out: SplitAssignment[] = textHashes.map((h) => {
    const digest = createHash("sha256").update(`${seed}:${h}`).digest();
    const u = digest.readUInt32BE(0) / 2 ** 32;
    return { split: u < valFraction ? "val" : "train", u };
  });
  if (out.length >= 2 && valFraction > 0) {
    const byU = [...out].sort((a, b) => a.u - b.u);
    if (!out.some((a) => a.split === "val")) byU[0].split = "val";
    if (!out.some((a) => a.split === "train")) byU[byU.length - 1].split = "train";
  }
  return out;
}
