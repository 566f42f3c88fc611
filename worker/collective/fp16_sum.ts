/**
 * Sums of fp16 arrays through onnxruntime, whose Cast converts with the CPU's fp16 instructions
 * (F16C on x86-64). JavaScript has none: reading a Float16Array and storing into one convert
 * value by value in software, which made the reduce-scatter's adds a rank's largest CPU cost.
 *
 * @example
 * ```ts
 * addFp16Into(dst, src); // dst[i] = fp16(fp32(dst[i]) + fp32(src[i]))
 * ```
 */
import { Graph } from "../../model/graph/mod.ts";
import { createSyncSession, float16Tensor, type SyncSession } from "../../model/runtime.ts";

let session: SyncSession | undefined;

/**
 * `dst[i] = fp16(fp32(dst[i]) + fp32(src[i]))`, rounded to nearest even: the value JavaScript
 * stores when it adds the two elements into a Float32Array and copies that into a Float16Array.
 * The session is compiled on the first call.
 */
export function addFp16Into(dst: Float16Array, src: Float16Array): void {
  if (dst.length !== src.length) {
    throw new RangeError(`Adding ${src.length} fp16 values into ${dst.length}`);
  }
  session ??= createSyncSession(sumModel());
  for (let at = 0; at < dst.length; at += BLOCK) {
    // The output is bound to dst itself: the last Cast writes it after the first has read it.
    const d = float16Tensor(dst.subarray(at, at + BLOCK));
    session.runInto({ a: d, b: float16Tensor(src.subarray(at, at + BLOCK)) }, { sum: d });
  }
}

/**
 * Values a run sums: small enough that the graph's fp32 intermediates stay in a core's cache
 * between its Casts and its Add, large enough that a run's fixed cost stays small.
 */
const BLOCK = 1 << 17;

function sumModel(): Uint8Array {
  const g = new Graph();
  const a = g.input("a", "float16", [1], { 0: "n" });
  const b = g.input("b", "float16", [1], { 0: "n" });
  const sum = g.add(g.cast(a, "float32"), g.cast(b, "float32"));
  g.output(g.cast(sum, "float16"), "sum", { 0: "n" });
  return g.toModel();
}
