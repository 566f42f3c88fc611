/**
 * The model compiler: an ONNX graph builder with static shapes, and reverse-mode autodiff whose
 * output is again ONNX.
 */
export { Graph } from "./graph.ts";
export type {
  Attr,
  GraphParts,
  Initializer,
  ModelOptions,
  Node,
  TensorData,
  Value,
} from "./types.ts";
export { bfloat16Bits, typedArray } from "./graph.ts";
export { bytesPerElement, type DType, isFloat, numel, onnxTypeCode } from "./dtype.ts";
export { decodeModel } from "./onnx_proto.ts";
export { type GradientOptions, gradients } from "./autodiff.ts";
export { type VjpRule } from "./vjp.ts";
