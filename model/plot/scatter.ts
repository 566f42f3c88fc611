/**
 * An SVG scatter plot with a text label beside each point, for 2-D projections of embeddings
 * (PCA, t-SNE). Points may carry a group, coloured with a legend. Non-finite points are skipped.
 *
 * @example
 * ```ts
 * const svg = scatterSvg({
 *   title: "Token embeddings (PCA)", xLabel: "PC 1", yLabel: "PC 2",
 *   points: [{ x: 0.1, y: 0.3, label: "king" }, { x: 0.2, y: 0.25, label: "queen" }],
 * });
 * ```
 */
import {
  escapeXml,
  extent,
  formatNumber,
  frameLabels,
  niceTicks,
  PALETTE,
  px,
  svgOpen,
  textWidth,
} from "./_svg.ts";

/** One point. */
export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
  /** Points of one group share a colour and a legend entry. */
  group?: string;
}

/** What to draw. */
export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly ScatterPoint[];
  width?: number;
  height?: number;
}

/** Renders a labelled scatter plot as an SVG document string. */
export function scatterSvg(o: ScatterOptions): string {
  const pts = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const groups = [...new Set(pts.map((p) => p.group).filter((g) => g !== undefined))] as string[];
  const legendWidth = groups.length ? Math.max(...groups.map((g) => textWidth(g, 12))) + 40 : 0;
  const width = o.width ?? 720, height = o.height ?? 560;
  const area = { left: 72, top: 40, width: width - 72 - 24 - legendWidth, height: height - 96 };
  let out = svgOpen(width, height) + frameLabels(o, area, width);
  const box = `<rect x="${area.left}" y="${area.top}" width="${px(area.width)}" ` +
    `height="${px(area.height)}" fill="none" stroke="#333333"/>\n`;
  if (pts.length === 0) return out + box + "</svg>\n";
  const pad = (lo: number, hi: number): [number, number] => {
    const s = hi > lo ? (hi - lo) * 0.06 : Math.abs(lo) * 0.5 || 1;
    return [lo - s, hi + s];
  };
  const [x0, x1] = pad(...extent(pts.map((p) => p.x)));
  const [y0, y1] = pad(...extent(pts.map((p) => p.y)));
  const sx = (x: number) => area.left + (x - x0) / (x1 - x0) * area.width;
  const sy = (y: number) => area.top + area.height - (y - y0) / (y1 - y0) * area.height;
  const xTicks = niceTicks(x0, x1, 6).filter((t) => t >= x0 && t <= x1);
  const yTicks = niceTicks(y0, y1, 6).filter((t) => t >= y0 && t <= y1);
  out += `<g stroke="#e5e5e5">\n`;
  for (const t of xTicks) {
    out += `<line x1="${px(sx(t))}" y1="${area.top}" x2="${px(sx(t))}" y2="${
      area.top + area.height
    }"/>\n`;
  }
  for (const t of yTicks) {
    out += `<line x1="${area.left}" y1="${px(sy(t))}" x2="${area.left + area.width}" y2="${
      px(sy(t))
    }"/>\n`;
  }
  out += `</g>\n<g font-size="11" fill="#333333">\n`;
  for (const t of xTicks) {
    out += `<text x="${px(sx(t))}" y="${area.top + area.height + 18}" text-anchor="middle">` +
      `${escapeXml(formatNumber(t))}</text>\n`;
  }
  for (const t of yTicks) {
    out += `<text x="${area.left - 8}" y="${px(sy(t) + 4)}" text-anchor="end">` +
      `${escapeXml(formatNumber(t))}</text>\n`;
  }
  out += `</g>\n` + box + `<g font-size="11">\n`;
  const colorOf = (g: string | undefined) =>
    g === undefined ? PALETTE[0] : PALETTE[groups.indexOf(g) % PALETTE.length];
  for (const p of pts) {
    const x = sx(p.x), y = sy(p.y), c = colorOf(p.group);
    out += `<circle cx="${px(x)}" cy="${px(y)}" r="3.5" fill="${c}" fill-opacity="0.85"/>\n`;
    if (p.label !== undefined) {
      // Labels near the right edge go on the left of their point so they stay inside.
      const flip = x + 6 + textWidth(p.label, 11) > area.left + area.width;
      out += `<text x="${px(flip ? x - 6 : x + 6)}" y="${px(y + 4)}" fill="#222222"` +
        `${flip ? ' text-anchor="end"' : ""}>${escapeXml(p.label)}</text>\n`;
    }
  }
  out += `</g>\n`;
  if (groups.length) {
    const lx = area.left + area.width + 16;
    out += `<g font-size="12">\n`;
    groups.forEach((g, k) => {
      const y = area.top + 10 + k * 20;
      out += `<circle cx="${lx + 6}" cy="${y}" r="5" fill="${colorOf(g)}"/>` +
        `<text x="${lx + 18}" y="${y + 4}">${escapeXml(g)}</text>\n`;
    });
    out += `</g>\n`;
  }
  return out + `</svg>\n`;
}
