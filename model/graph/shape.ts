/** Static shape arithmetic shared by the op builders; errors name the op and the shapes. */

/** `[2,3]` style rendering for messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** NumPy-style broadcast of several shapes, or a TypeError naming the op. */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const e = k < 0 ? 1 : s[k];
      if (e === 1) continue;
      if (d !== 1 && d !== e) {
        throw new TypeError(
          `${op}: shapes ${shapes.map(showShape).join(" and ")} do not broadcast`,
        );
      }
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** Normalises a possibly negative axis against a rank, or throws naming the op. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * ONNX Slice bounds (step 1) resolved against `shape`: per entry of `axes`, the axis and the
 * [start, end) it keeps, negatives counted from the end and everything clamped to the axis.
 */
export function sliceBounds(
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
): { axis: number; start: number; end: number }[] {
  if (starts.length !== axes.length || ends.length !== axes.length) {
    throw new TypeError(`Slice: starts, ends and axes must have the same length`);
  }
  return axes.map((axis, i) => {
    const a = normAxis("Slice", axis, shape.length), d = shape[a];
    const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const start = clamp(starts[i]);
    return { axis: a, start, end: Math.max(clamp(ends[i]), start) };
  });
}
