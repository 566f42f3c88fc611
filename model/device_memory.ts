/**
 * Tensors in GPU memory (`--device webgpu`), moved to and from the host through onnxruntime alone.
 *
 * onnxruntime-node 1.30 has no call that copies a typed array into a `gpu-buffer` tensor or reads
 * one back (the tensor's `getData()` aborts the process), but a session can leave its outputs in
 * device memory and take such outputs as inputs. So an upload is an Identity session whose output
 * stays on the device, and a download an Identity session whose output comes to the host.
 *
 * @example
 * ```ts
 * const memory = new DeviceMemory();
 * const w = await memory.upload(new Float32Array([1, 2, 3]), [3]); // a gpu-buffer tensor
 * const back = await memory.download(w); // Float32Array [1, 2, 3]
 * w.dispose(); // frees the device buffer
 * ```
 */
import { type Attr, type DType, Graph, onnxTypeCode } from "./graph/mod.ts";
import { createSession, ort } from "./runtime.ts";

/**
 * Element types that cross between host and device here. Not float16: onnxruntime-common hands a
 * float16 tensor to the binding as a Float16Array, which Deno's N-API cannot describe (it panics;
 * `float16Tensor` in runtime.ts is the way around it, which no upload here has needed).
 */
export type DeviceDType = Extract<DType, "float32" | "int32" | "bool">;

type HostArray<T extends DeviceDType> = T extends "float32" ? Float32Array
  : T extends "int32" ? Int32Array
  : Uint8Array;

/** Uploads and downloads on the webgpu device; one pair of tiny sessions per dtype and rank. */
export class DeviceMemory {
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();

  /**
   * A copy of `data` in device memory, shaped `dims`: float32 from a Float32Array, int32 from an
   * Int32Array, bool from a Uint8Array of 0 and 1.
   */
  async upload(data: Float32Array | Int32Array | Uint8Array, dims: readonly number[]) {
    const dtype: DeviceDType = data instanceof Float32Array
      ? "float32"
      : data instanceof Int32Array
      ? "int32"
      : "bool";
    const session = await this.#identity(dtype, dims.length, "device");
    const out = await session.run({ x: new ort.Tensor(hostType(dtype), data, dims) });
    return out.y;
  }

  /** A device tensor of `dims` zeros. */
  zeros(dims: readonly number[], dtype: DeviceDType = "float32"): Promise<ort.Tensor> {
    const n = dims.reduce((p, d) => p * d, 1);
    const host = dtype === "float32"
      ? new Float32Array(n)
      : dtype === "int32"
      ? new Int32Array(n)
      : new Uint8Array(n);
    return this.upload(host, dims);
  }

  /** The contents of a device tensor, copied to the host (bool as 0/1 bytes). */
  async download<T extends DeviceDType>(tensor: ort.Tensor): Promise<HostArray<T>> {
    const session = await this.#identity(tensor.type as DeviceDType, tensor.dims.length, "host");
    const out = await session.run({ x: tensor });
    return out.y.data as HostArray<T>;
  }

  /** Releases the sessions (the tensors they made stay valid until disposed). */
  async release(): Promise<void> {
    for (const s of this.#sessions.values()) await (await s).release();
    this.#sessions.clear();
  }

  #identity(dtype: DeviceDType, rank: number, to: "device" | "host") {
    const key = `${dtype}:${rank}:${to}`;
    let s = this.#sessions.get(key);
    if (!s) {
      const g = new Graph();
      const axes = Object.fromEntries(Array.from({ length: rank }, (_, i) => [i, `d${i}`]));
      const shape = new Array(rank).fill(1);
      // The provider has no bool (or uint8) Identity: bools travel as uint8, cast on the device by
      // a node that is itself the output, so no renaming Identity follows it.
      const from = to === "device" ? hostType(dtype) : dtype;
      const into = to === "device" ? dtype : hostType(dtype);
      const x = g.input("x", from, shape, axes);
      const op = from === into ? "Identity" : "Cast";
      const attrs: Record<string, Attr> = op === "Cast" ? { to: { i: onnxTypeCode[into] } } : {};
      g.output(g.node(op, [x], [{ dtype: into, shape }], attrs, "", "y")[0], undefined, axes);
      s = createSession(g.toModel(), {
        device: { kind: "webgpu" },
        outputsOnDevice: to === "device" ? ["y"] : [],
      });
      this.#sessions.set(key, s);
    }
    return s;
  }
}

/** How a device dtype is held on the host. */
function hostType(dtype: DeviceDType): "float32" | "int32" | "uint8" {
  return dtype === "bool" ? "uint8" : dtype;
}
