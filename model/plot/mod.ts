/**
 * Dependency-free SVG charts: line charts (loss curves), heatmaps (attention maps) and labelled
 * scatter plots (embedding projections). Each returns a complete SVG document as a string.
 *
 * @module
 */
export { lineChartSvg } from "./line_chart.ts";
export type { LineChartOptions, LineSeries } from "./line_chart.ts";
export { heatmapSvg } from "./heatmap.ts";
export type { HeatmapOptions } from "./heatmap.ts";
export { scatterSvg } from "./scatter.ts";
export type { ScatterOptions, ScatterPoint } from "./scatter.ts";
export { escapeXml, PALETTE } from "./_svg.ts";
export { imageFormat, writeImage } from "./write_image.ts";
