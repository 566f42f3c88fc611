/**
 * A thin layer over onnxruntime-node: the `--device` flag (`cpu`, `cuda`, `cuda:N`), thread counts,
 * and sessions that fail with a message saying how to fix a missing provider.
 *
 * @example
 * ```ts
 * const session = await createSession(graph.toModel(), { device: "cpu", threads: 2 });
 * const out = await session.run({ x: new ort.Tensor("float32", data, [4, 3]) });
 * ```
 */
import * as ort from "onnxruntime-node";
import { InputError } from "./errors.ts";

export { ort };

/** A parsed `--device` flag. */
export type Device = { kind: "cpu" } | { kind: "cuda"; id: number };

/** Parses `cpu`, `cuda` or `cuda:N`; `flag` names the option in the error. */
export function parseDevice(text: string, flag = "--device"): Device {
  if (text === "cpu") return { kind: "cpu" };
  const m = /^cuda(?::(\d+))?$/.exec(text);
  if (m) return { kind: "cuda", id: m[1] ? Number(m[1]) : 0 };
  throw new InputError(flag, `expected "cpu", "cuda" or "cuda:N", got "${text}"`);
}

/** Session settings. */
export interface SessionOptions {
  device?: Device | string;
  /** Intra-op threads; defaults to onnxruntime's choice (all cores). */
  threads?: number;
}

/** Compiles ONNX bytes into an inference session on the chosen device. */
export async function createSession(
  model: Uint8Array,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const device = typeof options.device === "string"
    ? parseDevice(options.device)
    : options.device ?? { kind: "cpu" };
  if (device.kind === "cuda") assertCudaAvailable();
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: device.kind === "cuda" ? [{ name: "cuda", deviceId: device.id }] : ["cpu"],
    graphOptimizationLevel: "all",
    interOpNumThreads: 1,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  };
  try {
    return await ort.InferenceSession.create(model, sessionOptions);
  } catch (err) {
    throw new Error(
      `onnxruntime could not load the model on ${describeDevice(device)}: ${
        (err as Error).message
      }`,
      {
        cause: err,
      },
    );
  }
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

function describeDevice(d: Device): string {
  return d.kind === "cpu" ? "cpu" : `cuda:${d.id}`;
}
