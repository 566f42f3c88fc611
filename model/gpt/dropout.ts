/**
 * Dropout whose masks are drawn by the train step, not by the backend: reproducible training.
 *
 * ONNX's Dropout draws its mask inside the kernel from a generator nobody can save or seed per
 * step, so a resumed run, a replayed distributed step or the same batch split another way would
 * each see other masks. Here each dropout site is a bool input of the graph (`dropout:N`, the
 * shape of the activation it masks), and row r of every site is drawn from a generator seeded by
 * the run's seed and the global index of the sample in row r. A sample keeps its masks wherever
 * and whenever it is trained on.
 */
import type { Graph, Value } from "../graph/mod.ts";
import { Rng } from "../optim/mod.ts";

/** Name prefix of the keep-mask inputs. */
export const DROPOUT_INPUT = "dropout:";

/** Masks are drawn 16 bits at a time, so the ratio applied is `p` rounded to a multiple of 2⁻¹⁶. */
const LEVELS = 65536;

/** The ratio the masks really apply for a configured `p`. */
function appliedRatio(p: number): number {
  return Math.round(p * LEVELS) / LEVELS;
}

/**
 * Training-mode dropout with ratio `p`, or `x` itself when p is 0: a new keep-mask input of x's
 * shape selects the elements to keep, scaled by 1/(1 − p).
 */
export function dropout(g: Graph, x: Value, p: number): Value {
  if (p <= 0) return x;
  const site = g.inputs.filter((v) => v.name.startsWith(DROPOUT_INPUT)).length;
  const keep = g.input(`${DROPOUT_INPUT}${site}`, "bool", x.shape);
  const scaled = g.mul(x, g.constant(1 / (1 - appliedRatio(p)), x.dtype));
  return g.where(keep, scaled, g.constant(0, x.dtype));
}

/**
 * Fills the keep masks of one micro-batch (each `rows × …`, row-major, one byte per element):
 * row r of every mask comes from the generator of sample `samples[r]` under `seed`.
 */
export function drawDropoutMasks(
  masks: readonly Uint8Array[],
  p: number,
  seed: number,
  samples: readonly number[],
): void {
  const threshold = appliedRatio(p) * LEVELS, rows = samples.length;
  for (let r = 0; r < rows; r++) {
    const rng = new Rng((Math.imul(seed ^ 0x64726f70, 0x9e3779b1) + samples[r]) >>> 0);
    for (const mask of masks) {
      const per = mask.length / rows, row = mask.subarray(r * per, (r + 1) * per);
      for (let i = 0; i < per; i += 2) {
        const u = rng.nextU32();
        row[i] = (u & 0xffff) >= threshold ? 1 : 0;
        if (i + 1 < per) row[i + 1] = u >>> 16 >= threshold ? 1 : 0;
      }
    }
  }
}
