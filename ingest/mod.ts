/**
 * Ingest: real files (text, code, PDFs, images) into verified token shards. Readers of the shards
 * use `model/data/mod.ts`, never this folder.
 *
 * @example
 * ```ts
 * import { runIngest } from "./ingest/mod.ts";
 * const { summary } = await runIngest({ out: "runs/data", inputs: ["corpus"] }, { log });
 * ```
 */
export { type IngestDeps, type IngestResult, NoUsableInputError, runIngest } from "./run_ingest.ts";
export { IngestOptions } from "./options.ts";
export type { IngestOptionsInput } from "./options.ts";
export { cleanText } from "./clean_text.ts";
export { detectKind } from "./detect_kind.ts";
export { OcrPool } from "./ocr_pool.ts";
export { columnOrder } from "./reading_order.ts";
export { walkInputs } from "./walk_inputs.ts";
export { summaryLine } from "./summary_line.ts";
