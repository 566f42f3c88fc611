/**
 * The dashboard's line charts, drawn by uPlot (served from its npm package as the global `uPlot`).
 * Each chart draws some columns of every run's history against a chosen x column; each curve is
 * decimated to the chart's pixel width first (decimate.js), then the curves are aligned on one x
 * axis with `uPlot.join`, which leaves gaps where a curve has no point.
 */
import { decimate } from "./decimate.js";

/** Colours per run: its train curve, then its validation curve. */
const PALETTE = [
  ["#2360d8", "#e07b00"],
  ["#1a8a4a", "#b83280"],
  ["#6b46c1", "#c05621"],
  ["#2c7a7b", "#9b2c2c"],
];

/**
 * @typedef {{ column: string, label: string, scale?: string, second?: boolean, unlessAll?: number }} CurveSpec
 * A column drawn for every run; `second` picks the run's second colour (dashed), `scale` a
 * y scale other than "y"; with `unlessAll`, the curve is left out while every value equals it.
 */

export class Chart {
  /**
   * @param {HTMLElement} element
   * @param {{ curves: CurveSpec[], yLabel: string, secondAxis?: string, height?: number }} spec
   */
  constructor(element, spec) {
    this.element = element;
    this.spec = spec;
    /** @type {any} the uPlot instance (tests read its data) */
    this.plot = undefined;
    this.key = "";
  }

  /**
   * Redraws with `runs` (each `{ name, cols }`, cols holding the history by column name).
   * @param {{ name: string, cols: Record<string, (number | null)[]> }[]} runs
   * @param {string} x the column on the x axis
   */
  update(runs, x) {
    const width = Math.max(300, this.element.clientWidth);
    const curves = runs.flatMap((run, r) =>
      this.spec.curves
        .filter((c) =>
          c.unlessAll === undefined ||
          run.cols[c.column]?.some((v) => v != null && v !== c.unlessAll)
        )
        .map((c) => ({ ...c, run: r, name: runs.length > 1 ? `${run.name} ${c.label}` : c.label }))
    );
    const tables = curves.map((c) =>
      decimate(runs[c.run].cols[x], runs[c.run].cols[c.column], width)
    );
    const data = tables.length ? uPlot.join(tables) : [[]];
    const key = `${x}|${width}|${curves.map((c) => c.name).join("|")}`;
    if (key !== this.key) {
      this.plot?.destroy();
      this.plot = new uPlot(this.#options(curves, x, width), data, this.element);
      this.key = key;
    } else {
      this.plot.setData(data);
    }
  }

  #options(curves, x, width) {
    const axes = [
      {
        label: x === "tokens" ? "tokens seen" : "optimizer step",
        values: (_u, ticks) => ticks.map(short),
        incrs: WHOLE,
      },
      { label: this.spec.yLabel, values: (_u, ticks) => ticks.map(short), size: 60 },
    ];
    const scales = { x: { time: false } };
    if (this.spec.secondAxis && curves.some((c) => c.scale === "right")) {
      axes.push({
        scale: "right",
        side: 1,
        label: this.spec.secondAxis,
        grid: { show: false },
        size: 60,
      });
      scales.right = { auto: true };
    }
    return {
      width,
      height: this.spec.height ?? 240,
      scales,
      axes,
      legend: { live: true },
      series: [
        // Away from the cursor, the legend shows each curve's latest value.
        {
          label: x === "tokens" ? "tokens" : "step",
          value: (_u, v, _s, i) => i == null ? "latest" : v == null ? "–" : short(v),
        },
        ...curves.map((c) => ({
          label: c.name,
          scale: c.scale ?? "y",
          stroke: PALETTE[c.run % PALETTE.length][c.second ? 1 : 0],
          width: c.second ? 2 : 1.25,
          dash: c.second ? [6, 4] : undefined,
          spanGaps: true,
          points: { show: c.second, size: 4 },
          value: (u, v, s, i) => {
            const shown = i == null ? latest(u.data[s]) : v;
            return shown == null ? "–" : precise(shown);
          },
        })),
      ],
    };
  }
}

/** Tick spacings for steps and tokens: whole numbers only (1, 2, 5, 10, 20, 50…). */
const WHOLE = Array.from({ length: 13 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/** A tick label: 12k, 3.4M, 1e-4. */
export function short(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 1e-2) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

function latest(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
  return undefined;
}

/** A legend value: enough digits to compare two runs. */
export function precise(v) {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(+v.toPrecision(5));
}
