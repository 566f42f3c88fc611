/**
 * Tensor element types: the names used everywhere in Denoformer (they are onnxruntime's names), their
 * ONNX `TensorProto.DataType` codes and their byte sizes.
 */
export type DType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float64"
  | "int64"
  | "int32"
  | "uint8"
  | "bool";

/** ONNX `TensorProto.DataType` code for each dtype. */
export const onnxTypeCode: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

/** Bytes per element. */
export const bytesPerElement: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

/** True for the floating-point dtypes, the only ones gradients flow through. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float16" || dtype === "bfloat16" || dtype === "float64";
}

/** Number of elements of a static shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
