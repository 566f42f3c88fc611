/**
 * Exports a trained model to where people run models: an ONNX decoder with past key/values in the
 * folder layout transformers.js and Optimum use for GPT-2, with its config and tokenizer files.
 *
 * @example
 * ```ts
 * import { exportOnnx } from "../model/export/mod.ts";
 * await exportOnnx(await loadModelDir("runs/a"), "exports/a");
 * ```
 */
export { type ExportedModel, exportOnnx } from "./export_onnx.ts";
export { buildOnnxDecoder } from "./onnx_decoder.ts";
