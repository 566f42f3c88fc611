/** Shared pieces of the SVG charts: escaping, number formats, tick choice, colours. */

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    ({
      "&": "&amp;",
      "<": "&lt;",
      ">": "&gt;",
      '"': "&quot;",
      "'": "&apos;",
    })[c]!)
    // Characters XML 1.0 forbids outright (control characters other than tab and newlines).
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd");
}

/** A coordinate rounded to 0.01 px, so files stay small and diffs stable. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A short, readable number: 0.001, 12.5, 3.2e-5, 1.5k. */
export function formatNumber(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  if (a >= 1e4) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

/** Evenly spaced "nice" ticks (1, 2 or 5 × 10^k apart) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

/** Ticks for a log axis: powers of ten, with more steps between them when the range is short. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
  const decades = hi - lo;
  const mults = decades <= 1 ? [1, 2, 3, 4, 5, 6, 8] : decades <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of mults) {
      const t = Number((m * 10 ** e).toPrecision(12));
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks.length >= 2 ? ticks : [min, max];
}

/** Okabe–Ito colours, distinguishable with common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

const VIRIDIS = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** The viridis colour map at t in [0, 1], as `rgb(r,g,b)`. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Rough width of a label in px (sans-serif averages about 0.6 em per character). */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** The opening tag every chart shares: white background, sans-serif text. */
export function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" ` +
    `font-size="12">\n<rect width="100%" height="100%" fill="#ffffff"/>\n`;
}

/** Title, x label and rotated y label around a plot area. */
export function frameLabels(
  o: { title: string; xLabel: string; yLabel: string },
  area: { left: number; top: number; width: number; height: number },
  totalWidth: number,
): string {
  const cx = area.left + area.width / 2, cy = area.top + area.height / 2;
  return [
    `<text x="${px(totalWidth / 2)}" y="24" text-anchor="middle" font-size="16" ` +
    `font-weight="bold">${escapeXml(o.title)}</text>`,
    `<text x="${px(cx)}" y="${px(area.top + area.height + 40)}" text-anchor="middle" ` +
    `font-size="13">${escapeXml(o.xLabel)}</text>`,
    `<text x="16" y="${px(cy)}" text-anchor="middle" font-size="13" ` +
    `transform="rotate(-90 16 ${px(cy)})">${escapeXml(o.yLabel)}</text>`,
  ].join("\n") + "\n";
}

/** Smallest and largest of the finite values (a loop: spreading 10^5 arguments overflows). */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
