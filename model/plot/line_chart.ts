/**
 * A dependency-free SVG line chart: axes with nice ticks, grid, title, axis labels and a legend
 * beside the plot. Points whose x or y is NaN or infinite (or y ≤ 0 on a log axis) are skipped and
 * break the line there, so one bad loss value never hides the rest of the curve.
 *
 * @example
 * ```ts
 * const svg = lineChartSvg({
 *   title: "Training loss", xLabel: "step", yLabel: "loss",
 *   series: [{ name: "train", points: [[0, 8.3], [100, 4.1]] }],
 * });
 * await Deno.writeTextFile("runs/a/loss.svg", svg);
 * ```
 */
import {
  escapeXml,
  extent,
  formatNumber,
  frameLabels,
  logTicks,
  niceTicks,
  PALETTE,
  px,
  svgOpen,
  textWidth,
} from "./_svg.ts";

/** One named line. */
export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  /** CSS colour; defaults to the palette in order. */
  color?: string;
}

/** What to draw. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Logarithmic y axis (points with y ≤ 0 are skipped). */
  logY?: boolean;
  width?: number;
  height?: number;
}

/** Renders a line chart as an SVG document string. */
export function lineChartSvg(o: LineChartOptions): string {
  const width = o.width ?? 760, height = o.height ?? 440;
  const legendWidth = Math.max(0, ...o.series.map((s) => textWidth(s.name, 12))) + 44;
  const area = {
    left: 72,
    top: 40,
    width: width - 72 - legendWidth - 16,
    height: height - 40 - 56,
  };
  const usable = (x: number, y: number) =>
    Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0);
  const xs: number[] = [], ys: number[] = [];
  for (const s of o.series) {
    for (const [x, y] of s.points) if (usable(x, y)) xs.push(x), ys.push(y);
  }
  let out = svgOpen(width, height) + frameLabels(o, area, width);
  if (xs.length === 0) {
    out += `<text x="${px(area.left + area.width / 2)}" y="${px(area.top + area.height / 2)}" ` +
      `text-anchor="middle" fill="#666666">no data</text>\n`;
    return out + axesBox(area) + "</svg>\n";
  }
  const [x0, x1] = padRange(...extent(xs), false, 0);
  const [y0, y1] = padRange(...extent(ys), o.logY ?? false, 0.04);
  const fy = o.logY ? Math.log10 : (v: number) => v;
  const sx = (x: number) => area.left + (x - x0) / (x1 - x0) * area.width;
  const sy = (y: number) =>
    area.top + area.height - (fy(y) - fy(y0)) / (fy(y1) - fy(y0)) * area.height;

  const xTicks = niceTicks(x0, x1, 7).filter((t) => t >= x0 && t <= x1);
  const yTicks = o.logY ? logTicks(y0, y1) : niceTicks(y0, y1, 6).filter((t) => t >= y0 && t <= y1);
  out += `<g stroke="#e5e5e5" stroke-width="1">\n`;
  for (const t of xTicks) {
    out += `<line x1="${px(sx(t))}" y1="${area.top}" x2="${px(sx(t))}" ` +
      `y2="${area.top + area.height}"/>\n`;
  }
  for (const t of yTicks) {
    out += `<line x1="${area.left}" y1="${px(sy(t))}" x2="${area.left + area.width}" ` +
      `y2="${px(sy(t))}"/>\n`;
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
  out += `</g>\n`;

  out += `<g fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">\n`;
  o.series.forEach((s, k) => {
    const color = escapeXml(s.color ?? PALETTE[k % PALETTE.length]);
    let d = "", pen = false, lone: [number, number] | undefined, runLength = 0;
    const dots: string[] = [];
    for (const [x, y] of s.points) {
      if (!usable(x, y)) {
        if (runLength === 1 && lone) dots.push(dot(lone, color));
        pen = false, runLength = 0;
        continue;
      }
      const p: [number, number] = [sx(x), sy(y)];
      d += `${pen ? "L" : "M"}${px(p[0])} ${px(p[1])} `;
      pen = true, lone = p, runLength++;
    }
    if (runLength === 1 && lone) dots.push(dot(lone, color));
    out += `<path d="${d.trim()}" stroke="${color}"><title>${escapeXml(s.name)}</title></path>\n`;
    out += dots.join("");
  });
  out += `</g>\n` + axesBox(area);

  const lx = area.left + area.width + 16;
  out += `<g font-size="12">\n`;
  o.series.forEach((s, k) => {
    const color = escapeXml(s.color ?? PALETTE[k % PALETTE.length]);
    const y = area.top + 10 + k * 20;
    out += `<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${color}" ` +
      `stroke-width="3"/>\n<text x="${lx + 28}" y="${y + 4}">${escapeXml(s.name)}</text>\n`;
  });
  return out + `</g>\n</svg>\n`;
}

/** A point with no neighbour to draw a line to is drawn as a dot. */
function dot([x, y]: [number, number], color: string): string {
  return `<circle cx="${px(x)}" cy="${px(y)}" r="2.5" fill="${color}" stroke="none"/>\n`;
}

function axesBox(a: { left: number; top: number; width: number; height: number }): string {
  return `<rect x="${a.left}" y="${a.top}" width="${px(a.width)}" height="${px(a.height)}" ` +
    `fill="none" stroke="#333333" stroke-width="1"/>\n`;
}

/** Widens a degenerate range and leaves a little air above and below the data. */
function padRange(min: number, max: number, log: boolean, air: number): [number, number] {
  if (log) {
    const [a, b] = [Math.log10(min), Math.log10(max)];
    const pad = b > a ? (b - a) * air : 0.5;
    return [10 ** (a - pad), 10 ** (b + pad)];
  }
  if (max === min) return [min - (Math.abs(min) || 1) * 0.5, max + (Math.abs(max) || 1) * 0.5];
  const pad = (max - min) * air;
  return [min - pad, max + pad];
}
