/**
 * Pages of known text as a scanner or a PDF producer would give them: drawn in a real font
 * (Liberation Sans, which pdfjs-dist ships) with @napi-rs/canvas, optionally tilted and noisy; and
 * the same column layouts as PDF text runs listed row by row across the columns, the content order
 * that makes a naive reader mix the columns.
 */
import { createCanvas, GlobalFonts } from "@napi-rs/canvas";
import { seededRandom } from "../../model/optim/mod.ts";
import type { GrayImage, PagePlan } from "./_fixtures.ts";

const FONT = "Liberation Sans";
GlobalFonts.registerFromPath(
  new URL(
    "../../node_modules/pdfjs-dist/standard_fonts/LiberationSans-Regular.ttf",
    import.meta.url,
  )
    .pathname,
  FONT,
);

/** Columns of lines side by side, under an optional heading that spans them. */
export interface ColumnsLayout {
  heading?: string;
  columns: string[][];
}

/** How a drawn page is spoiled, as a scan would be. */
export interface ScanFlaws {
  /** Rotation of the whole page. */
  tiltDegrees?: number;
  /** Standard deviation of added gray noise (0-255 scale); a tenth of a percent of pixels flip too. */
  noise?: number;
  seed?: number;
}

const FONT_PX = 30, LINE_PX = 44, MARGIN_PX = 60, GUTTER_PX = 70;

/** The text of a layout in reading order: heading, then each column top to bottom. */
export function layoutText(layout: ColumnsLayout): string {
  return [...(layout.heading ? [layout.heading] : []), ...layout.columns.flat()].join("\n");
}

/** A layout drawn black on white at about 300 DPI (a 30 px font is a 7pt font), then spoiled. */
export function drawLayout(layout: ColumnsLayout, flaws: ScanFlaws = {}): GrayImage {
  const measure = createCanvas(1, 1).getContext("2d");
  measure.font = `${FONT_PX}px "${FONT}"`;
  const colWidth = Math.max(...layout.columns.flat().map((l) => measure.measureText(l).width));
  const rows = Math.max(...layout.columns.map((c) => c.length)) + (layout.heading ? 2 : 0);
  const width = Math.ceil(2 * MARGIN_PX + layout.columns.length * (colWidth + GUTTER_PX));
  const height = 2 * MARGIN_PX + rows * LINE_PX;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, width, height);
  ctx.translate(width / 2, height / 2);
  ctx.rotate(((flaws.tiltDegrees ?? 0) * Math.PI) / 180);
  ctx.translate(-width / 2, -height / 2);
  ctx.fillStyle = "black";
  ctx.font = `${FONT_PX}px "${FONT}"`;
  let top = MARGIN_PX + FONT_PX;
  if (layout.heading) {
    ctx.fillText(layout.heading, MARGIN_PX, top);
    top += 2 * LINE_PX;
  }
  layout.columns.forEach((lines, c) => {
    const x = MARGIN_PX + c * (colWidth + GUTTER_PX);
    lines.forEach((line, r) => ctx.fillText(line, x, top + r * LINE_PX));
  });
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i + 1];
  if (flaws.noise) addNoise(pixels, flaws.noise, flaws.seed ?? 1);
  return { width, height, pixels };
}

/** A PDF page holding `image` as a scan at 300 DPI, and no text layer. */
export function scannedPage(image: GrayImage): PagePlan {
  return { size: [image.width * 72 / 300, image.height * 72 / 300], image };
}

/**
 * The layout as a PDF text layer in Helvetica 10pt, each row's lines listed left to right across
 * the columns, as some producers write reference cards and newsletters.
 */
export function columnsPlan(layout: ColumnsLayout): PagePlan {
  const size = 10, lead = 13, gutter = 24, margin = 50;
  const colWidth = 0.56 * size * Math.max(...layout.columns.flat().map((l) => l.length));
  const rows = Math.max(...layout.columns.map((c) => c.length));
  const width = 2 * margin + layout.columns.length * (colWidth + gutter);
  const height = 2 * margin + (rows + 2) * lead;
  const runs: PagePlan["runs"] = [];
  let y = height - margin - size;
  if (layout.heading) {
    runs.push({ x: margin, y, text: layout.heading, size });
    y -= 2 * lead;
  }
  for (let r = 0; r < rows; r++) {
    layout.columns.forEach((lines, c) => {
      if (r < lines.length) {
        runs.push({ x: margin + c * (colWidth + gutter), y: y - r * lead, text: lines[r], size });
      }
    });
  }
  return { size: [Math.ceil(width), Math.ceil(height)], runs };
}

function addNoise(pixels: Uint8Array, sigma: number, seed: number): void {
  const rng = seededRandom(seed);
  for (let i = 0; i < pixels.length; i++) {
    // Sum of four uniforms: near enough to Gaussian, with unit variance after scaling.
    const g = (rng() + rng() + rng() + rng() - 2) * Math.sqrt(3);
    let v = pixels[i] + g * sigma;
    if (rng() < 0.001) v = 255 - v;
    pixels[i] = Math.max(0, Math.min(255, Math.round(v)));
  }
}
