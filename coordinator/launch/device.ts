/**
 * Which device a worker gets: slot i of a host, or local task i of a Slurm node, runs on GPU i of
 * the kind asked for; `cpu` workers all run on the CPU.
 */
import { z } from "zod";

/** The device kinds `--device` of the launcher takes. */
export const DeviceKind = z.enum(["cpu", "cuda", "webgpu"]);
export type DeviceKind = z.infer<typeof DeviceKind>;

/** The worker's `--device` for GPU `index` of `kind`. */
export function deviceFor(kind: DeviceKind, index: number): string {
  return kind === "cpu" ? "cpu" : `${kind}:${index}`;
}
