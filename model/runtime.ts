/**
 * A thin layer over onnxruntime-node: the `--device` flag (`cpu`, `webgpu`, `cuda`, `cuda:N`),
 * thread counts, and sessions that fail with a message saying how to fix a missing provider.
 *
 * `webgpu` is the WebGPU provider bundled with onnxruntime-node (Vulkan on Linux, Metal on macOS,
 * D3D12 on Windows; see docs/gpu.md). Its sessions forbid CPU fallback: a graph with a node the
 * provider cannot run fails to compile instead of silently copying tensors to the host and back.
 *
 * @example
 * ```ts
 * const session = await createSession(graph.toModel(), { device: "cpu", threads: 2 });
 * const out = await session.run({ x: new ort.Tensor("float32", data, [4, 3]) });
 * ```
 */
import * as ort from "onnxruntime-node";
import { binding, initOrt } from "onnxruntime-node/dist/binding.js";
import { InputError } from "./errors.ts";

export { ort };

/** A parsed `--device` flag. */
export type Device = { kind: "cpu" } | { kind: "webgpu" } | { kind: "cuda"; id: number };

/** Parses `cpu`, `webgpu`, `cuda` or `cuda:N`; `flag` names the option in the error. */
export function parseDevice(text: string, flag = "--device"): Device {
  if (text === "cpu") return { kind: "cpu" };
  if (text === "webgpu") return { kind: "webgpu" };
  if (/^webgpu:\d+$/.test(text)) {
    throw new InputError(
      flag,
      `"${text}": onnxruntime's WebGPU provider takes no adapter index (it asks Dawn for the ` +
        "high-performance adapter); give each process its GPU through the driver instead, as " +
        'docs/gpu.md ("Several GPUs in one host") shows, and pass --device webgpu',
    );
  }
  const m = /^cuda(?::(\d+))?$/.exec(text);
  if (m) return { kind: "cuda", id: m[1] ? Number(m[1]) : 0 };
  throw new InputError(flag, `expected "cpu", "webgpu", "cuda" or "cuda:N", got "${text}"`);
}

/** The device a `--device` value or an absent one (cpu) names. */
export function resolveDevice(device: Device | string | undefined): Device {
  return typeof device === "string" ? parseDevice(device) : device ?? { kind: "cpu" };
}

/** Session settings. */
export interface SessionOptions {
  device?: Device | string;
  /** Intra-op threads; defaults to onnxruntime's choice (all cores). */
  threads?: number;
  /**
   * Outputs the session leaves in device memory (`webgpu` only), by name: they come back as
   * `gpu-buffer` tensors that other sessions on the device take as inputs without a copy. Read
   * one with {@linkcode DeviceMemory.download}; `getData()` on it aborts the process.
   */
  outputsOnDevice?: readonly string[];
}

/** Compiles ONNX bytes into an inference session on the chosen device. */
export async function createSession(
  model: Uint8Array,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const device = resolveDevice(options.device);
  if (device.kind === "cuda") assertCudaAvailable();
  if (options.outputsOnDevice?.length && device.kind !== "webgpu") {
    throw new Error(
      `Outputs kept in device memory need --device webgpu, not ${describeDevice(device)}`,
    );
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(device),
    graphOptimizationLevel: "all",
    interOpNumThreads: 1,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...(device.kind === "webgpu" ? { extra: { session: { disable_cpu_ep_fallback: "1" } } } : {}),
    ...(options.outputsOnDevice?.length
      ? {
        preferredOutputLocation: Object.fromEntries(
          options.outputsOnDevice.map((name) => [name, "gpu-buffer" as const]),
        ),
      }
      : {}),
  };
  try {
    return await ort.InferenceSession.create(model, sessionOptions);
  } catch (err) {
    throw sessionError(device, err as Error);
  }
}

/** A CPU session that writes its outputs into tensors the caller gives, on the calling thread. */
export interface SyncSession {
  /** Runs the model on `feeds`, writing each output into the tensor of its name in `outputs`. */
  runInto(feeds: Record<string, ort.Tensor>, outputs: Record<string, ort.Tensor>): void;
}

/**
 * Compiles ONNX bytes into a single-threaded CPU session that runs on the calling thread, for small
 * runs made often, many times a second. `InferenceSession.run` defers the same native call
 * through `setImmediate`, and under Deno a deferred call waits for the event loop to come round:
 * long, next to a run this small (see docs/allreduce.md).
 */
export function createSyncSession(model: Uint8Array): SyncSession {
  initOrt();
  const session = new binding.InferenceSession();
  try {
    session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      interOpNumThreads: 1,
      intraOpNumThreads: 1,
    });
  } catch (err) {
    throw sessionError({ kind: "cpu" }, err as Error);
  }
  return {
    runInto(feeds, outputs) {
      const copies = session.run(feeds, outputs, {});
      // The binding also returns a fresh copy of each output. Detached now, its memory goes back
      // to the allocator for the next run's copy; left to the garbage collector, each run's copy
      // faulted in fresh pages (see docs/allreduce.md).
      for (const copy of Object.values(copies)) {
        const data = (copy as ort.Tensor).data;
        if (ArrayBuffer.isView(data)) (data.buffer as ArrayBuffer).transfer(0);
      }
    },
  };
}

/**
 * A float16 tensor of `values` (one dimension), over their memory, that the native binding can
 * read. onnxruntime-common keeps float16 data as a Float16Array where that global exists, and
 * Deno's N-API cannot describe a Float16Array to the binding (it panics); the binding reads
 * float16 from a Uint16Array, so the tensor's `data` is the raw bits.
 */
export function float16Tensor(values: Float16Array): ort.Tensor {
  const bits = new Uint16Array(values.buffer, values.byteOffset, values.length);
  return Object.defineProperty(new ort.Tensor("float16", bits, [bits.length]), "data", {
    value: bits,
  });
}

function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  switch (device.kind) {
    case "cpu":
      return ["cpu"];
    case "webgpu":
      return ["webgpu"];
    case "cuda":
      return [{ name: "cuda", deviceId: device.id }];
  }
}

/** The provider's error, with what to do about the two a user can fix. */
function sessionError(device: Device, err: Error): Error {
  let hint = "";
  if (device.kind === "webgpu" && /adapter/i.test(err.message)) {
    hint = ". No usable GPU adapter: the host needs the Vulkan loader (Debian/Ubuntu package " +
      "libvulkan1) and a Vulkan driver (the GPU driver ships one; without a GPU, Mesa's lavapipe " +
      "from mesa-vulkan-drivers 24 or newer); see docs/gpu.md";
  } else if (
    device.kind === "webgpu" && /fallback to CPU EP has been explicitly disabled/.test(err.message)
  ) {
    hint =
      ". A node of this graph has no WebGPU kernel, and webgpu sessions may not fall back to " +
      "the CPU (the tensors would cross to the host and back every run)";
  }
  return new Error(
    `onnxruntime could not load the model on ${
      describeDevice(device)
    }: ${err.message.trim()}${hint}`,
    { cause: err },
  );
}

/**
 * True when the CUDA execution provider's library sits next to onnxruntime-node's binding. The npm
 * package does not ship it; its install script fetches it when asked to.
 */
export function cudaAvailable(): boolean {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const lib = new URL(
    `../bin/napi-v6/${Deno.build.os}/${arch}/libonnxruntime_providers_cuda.so`,
    import.meta.resolve("onnxruntime-node"),
  );
  try {
    return Deno.statSync(lib).isFile;
  } catch {
    return false;
  }
}

function assertCudaAvailable(): void {
  if (cudaAvailable()) return;
  throw new InputError(
    "--device",
    "the CUDA execution provider is not installed. On a GPU host with CUDA 12, install it with " +
      "`ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node` " +
      '(see docs/distributed.md, "GPU hosts"), or use --device cpu',
  );
}

/** The device as the `--device` flag writes it. */
export function describeDevice(d: Device): string {
  return d.kind === "cuda" ? `cuda:${d.id}` : d.kind;
}
