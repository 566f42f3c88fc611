/**
 * Which device a worker gets: slot i of a host, or local task i of a Slurm node, runs on CUDA GPU i
 * (`cuda:i`); `cpu` workers all run on the CPU. `webgpu` takes no adapter index (onnxruntime's
 * provider asks Dawn for the high-performance adapter; docs/gpu.md, "Several GPUs in one host"),
 * so every webgpu worker is given plain `webgpu`, and the GPU it uses is chosen by its environment.
 */
import { z } from "zod";

/** The device kinds `--device` of the launcher takes. */
export const DeviceKind = z.enum(["cpu", "cuda", "webgpu"]);
export type DeviceKind = z.infer<typeof DeviceKind>;

/** The worker's `--device` for GPU `index` of `kind`. */
export function deviceFor(kind: DeviceKind, index: number): string {
  return kind === "cuda" ? `cuda:${index}` : kind;
}
