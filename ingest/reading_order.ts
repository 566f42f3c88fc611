/** An axis-aligned box on a page, y growing downward. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Lines each of two columns must have before a page counts as laid out in columns; fewer, and the
 * gap is more likely a table cell or a stray label than a gutter.
 */
const MIN_COLUMN_LINES = 3;

/**
 * Reading order of a page set in columns, from the boxes of its words or text runs: a recursive XY
 * cut. A region splits first at gutters, vertical strips at least `minGutter` wide that no box
 * crosses, and is read column by column, left to right. A region without one splits into rows at
 * horizontal gaps; consecutive rows that share a gutter form a band read as columns (the body under
 * a heading that spans the page), and the other rows are read top to bottom, each in source order.
 *
 * Returns the indices of `boxes` in reading order, or undefined when the page has no columns (two
 * or more, of at least three lines each, side by side): single-column text keeps the order it came
 * in, byte for byte.
 *
 * @example
 * ```ts
 * // Two columns of two lines each, listed row by row as a naive reader would:
 * const boxes = [
 *   { x0: 0, y0: 0, x1: 40, y1: 8 }, { x0: 60, y0: 0, x1: 100, y1: 8 },
 *   { x0: 0, y0: 12, x1: 40, y1: 20 }, { x0: 60, y0: 12, x1: 100, y1: 20 },
 *   { x0: 0, y0: 24, x1: 40, y1: 32 }, { x0: 60, y0: 24, x1: 100, y1: 32 },
 * ];
 * columnOrder(boxes, 10); // [0, 2, 4, 1, 3, 5]
 * ```
 */
export function columnOrder(boxes: readonly Box[], minGutter: number): number[] | undefined {
  const found = { columns: false };
  const order = readRegion(boxes.map((_, i) => i), boxes, minGutter, found);
  return found.columns ? order : undefined;
}

/** The median of some values (0 for none): a line height to measure gutters in. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

function readRegion(
  ids: number[],
  boxes: readonly Box[],
  gutter: number,
  found: { columns: boolean },
): number[] {
  const columns = splitAt(ids, boxes, "x", gutter);
  if (columns.length > 1) {
    const tall = columns.filter((c) => splitAt(c, boxes, "y", 0).length >= MIN_COLUMN_LINES);
    if (tall.length >= 2) found.columns = true;
    return columns.flatMap((c) => readRegion(c, boxes, gutter, found));
  }
  const rows = splitAt(ids, boxes, "y", 0);
  if (rows.length === 1) return sourceOrder(ids);
  const out: number[] = [];
  for (let i = 0; i < rows.length;) {
    let band = rows[i], span = project(band, boxes, gutter), j = i + 1;
    // A band of columns starts at a row with a gap in it and takes the rows that share the gap.
    while (span.length > 1 && j < rows.length) {
      const joined = mergeSpans(span, project(rows[j], boxes, gutter), gutter);
      if (joined.length < 2) break;
      band = band.concat(rows[j++]);
      span = joined;
    }
    out.push(...(span.length > 1 ? readRegion(band, boxes, gutter, found) : sourceOrder(band)));
    i = j;
  }
  return out;
}

/**
 * Groups `ids` at gaps wider than `minGap` along one axis, in order along it. Each group keeps
 * every box that overlaps another in it, so a group is a column (x) or a row (y).
 */
function splitAt(
  ids: readonly number[],
  boxes: readonly Box[],
  axis: "x" | "y",
  minGap: number,
): number[][] {
  const lo = axis === "x" ? "x0" : "y0", hi = axis === "x" ? "x1" : "y1";
  const sorted = [...ids].sort((a, b) => boxes[a][lo] - boxes[b][lo]);
  const groups: number[][] = [];
  let end = -Infinity;
  for (const id of sorted) {
    const b = boxes[id];
    if (groups.length === 0 || b[lo] - end > minGap) {
      groups.push([id]);
      end = b[hi];
    } else {
      groups[groups.length - 1].push(id);
      end = Math.max(end, b[hi]);
    }
  }
  return groups;
}

/** The x extent of some boxes as sorted intervals, those closer than `gutter` joined. */
function project(
  ids: readonly number[],
  boxes: readonly Box[],
  gutter: number,
): [number, number][] {
  return mergeSpans(ids.map((id) => [boxes[id].x0, boxes[id].x1]), [], gutter);
}

function mergeSpans(
  a: readonly [number, number][],
  b: readonly [number, number][],
  gutter: number,
): [number, number][] {
  const all = a.concat(b).sort((p, q) => p[0] - q[0]);
  const out: [number, number][] = [];
  for (let i = 0; i < all.length; i++) {
    const lo = all[i][0], hi = all[i][1], last = out[out.length - 1];
    if (last && lo - last[1] <= gutter) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function sourceOrder(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}
