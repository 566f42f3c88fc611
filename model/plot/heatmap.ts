/**
 * An SVG heatmap with a viridis colour bar: attention maps, confusion matrices, similarity
 * matrices. Rows run top to bottom, columns left to right; NaN or infinite cells are grey.
 *
 * @example
 * ```ts
 * const svg = heatmapSvg([[1, 0], [0.5, 0.5]], {
 *   title: "Attention, layer 0 head 1", xLabel: "key", yLabel: "query",
 *   xTickLabels: ["The", "cat"], yTickLabels: ["The", "cat"],
 * });
 * ```
 */
import {
  escapeXml,
  extent,
  formatNumber,
  frameLabels,
  niceTicks,
  px,
  svgOpen,
  textWidth,
  viridis,
} from "./_svg.ts";

/** Labels and sizing. */
export interface HeatmapOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** One label per column (e.g. tokens); numeric indices when absent. */
  xTickLabels?: readonly string[];
  /** One label per row. */
  yTickLabels?: readonly string[];
  /** Colour range; defaults to the data's finite min and max. */
  min?: number;
  max?: number;
  width?: number;
  height?: number;
}

/** Renders `matrix` (rows of equal length) as an SVG document string. */
export function heatmapSvg(
  matrix: readonly ArrayLike<number>[],
  o: HeatmapOptions,
): string {
  const rows = matrix.length, cols = rows > 0 ? matrix[0].length : 0;
  for (const [i, r] of matrix.entries()) {
    if (r.length !== cols) {
      throw new RangeError(
        `Heatmap rows must have equal length: row ${i} has ${r.length}, not ${cols}`,
      );
    }
  }
  const yLabelWidth = Math.max(24, ...(o.yTickLabels ?? []).map((s) => textWidth(s, 11))) + 12;
  const xLabelHeight = o.xTickLabels
    ? Math.min(90, Math.max(...o.xTickLabels.map((s) => textWidth(s, 11)), 10) * 0.75 + 16)
    : 20;
  const width = o.width ?? 720, height = o.height ?? 560;
  const left = 28 + yLabelWidth, right = 110, top = 40, bottom = 36 + xLabelHeight;
  const area = { left, top, width: width - left - right, height: height - top - bottom };
  let [lo, hi] = extent(matrix.flatMap((r) => Array.from(r)));
  lo = o.min ?? (Number.isFinite(lo) ? lo : 0);
  hi = o.max ?? (Number.isFinite(hi) ? hi : 1);
  const span = hi > lo ? hi - lo : 1;
  const cw = cols > 0 ? area.width / cols : 0, ch = rows > 0 ? area.height / rows : 0;

  let out = svgOpen(width, height);
  out += frameLabels(o, { ...area, height: area.height + xLabelHeight - 20 }, width);
  // Hover values help on small maps; on big ones they would triple the file size.
  const tooltips = rows * cols <= 4096;
  out += `<g shape-rendering="crispEdges">\n`;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = matrix[i][j];
      const fill = Number.isFinite(v) ? viridis((v - lo) / span) : "#bbbbbb";
      const tip = tooltips ? `<title>[${i}, ${j}] ${formatNumber(v)}</title>` : "";
      out += `<rect x="${px(left + j * cw)}" y="${px(top + i * ch)}" width="${px(cw + 0.05)}" ` +
        `height="${px(ch + 0.05)}" fill="${fill}">${tip}</rect>\n`;
    }
  }
  out +=
    `</g>\n<rect x="${left}" y="${top}" width="${px(area.width)}" height="${px(area.height)}" ` +
    `fill="none" stroke="#333333"/>\n<g font-size="11" fill="#333333">\n`;
  for (const j of tickIndices(cols, o.xTickLabels, cw, o.xTickLabels ? 13 : 34)) {
    const x = left + (j + 0.5) * cw, y = top + area.height + 8;
    const label = escapeXml(o.xTickLabels?.[j] ?? String(j));
    out += o.xTickLabels
      ? `<text x="${px(x)}" y="${px(y)}" text-anchor="end" dominant-baseline="middle" ` +
        `transform="rotate(-45 ${px(x)} ${px(y)})">${label}</text>\n`
      : `<text x="${px(x)}" y="${px(y + 10)}" text-anchor="middle">${label}</text>\n`;
  }
  for (const i of tickIndices(rows, o.yTickLabels, ch, 14)) {
    out += `<text x="${left - 6}" y="${px(top + (i + 0.5) * ch + 4)}" text-anchor="end">` +
      `${escapeXml(o.yTickLabels?.[i] ?? String(i))}</text>\n`;
  }
  out += `</g>\n` + colorBar(left + area.width + 24, top, area.height, lo, hi);
  return out + `</svg>\n`;
}

/**
 * Which rows or columns get a label: every one when labels fit `minGapPx` apart, else every k-th
 * (k a 1-2-5 step, so numeric indices read 0, 10, 20…).
 */
function tickIndices(
  n: number,
  labels: readonly string[] | undefined,
  cellPx: number,
  minGapPx: number,
): number[] {
  const need = minGapPx / Math.max(cellPx, 1e-9);
  const every = need <= 1
    ? 1
    : [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((k) => k >= need) ??
      Math.ceil(need);
  const out: number[] = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return labels || out.length > 0 ? out : [];
}

function colorBar(x: number, top: number, height: number, lo: number, hi: number): string {
  const id = "heatmap-colorbar";
  let out = `<defs><linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">\n`;
  for (let k = 0; k <= 10; k++) {
    out += `<stop offset="${k / 10}" stop-color="${viridis(k / 10)}"/>\n`;
  }
  out += `</linearGradient></defs>\n<rect x="${x}" y="${top}" width="16" height="${px(height)}" ` +
    `fill="url(#${id})" stroke="#333333"/>\n<g font-size="11" fill="#333333">\n`;
  const ticks = hi > lo ? niceTicks(lo, hi, 5).filter((t) => t >= lo && t <= hi) : [lo];
  for (const t of ticks) {
    const y = top + height - (hi > lo ? (t - lo) / (hi - lo) : 0.5) * height;
    out += `<line x1="${x + 16}" y1="${px(y)}" x2="${x + 20}" y2="${px(y)}" stroke="#333333"/>` +
      `<text x="${x + 23}" y="${px(y + 4)}">${escapeXml(formatNumber(t))}</text>\n`;
  }
  return out + `</g>\n`;
}
