/**
 * The MatMul peak a benchmark's model FLOP/s are quoted against, measured on the benchmark's own
 * device in the same run.
 *
 * On the CPU: one fp32 n³ MatMul with both operands as host inputs. On webgpu the operands are
 * uploaded once and a chain of products runs inside one graph, its result reduced to a scalar
 * that is read back once per run, so the figure is the GPU's arithmetic, not PCIe or the host.
 */
import { DeviceMemory } from "../model/device_memory.ts";
import { Graph } from "../model/graph/mod.ts";
import { Rng } from "../model/optim/mod.ts";
import { createSession, type Device, ort } from "../model/runtime.ts";
import { median } from "./_stats.ts";

/** GFLOP/s of fp32 (or, on webgpu, fp16) n³ MatMuls on `device`, median of 10 runs. */
export async function matmulPeak(
  device: Device,
  threads: number,
  dtype: "float32" | "float16" = "float32",
  n = 1024,
): Promise<number> {
  const chain = device.kind === "webgpu" ? 4 : 1;
  const g = new Graph();
  const a = g.input("a", "float32", [n, n]), b = g.input("b", "float32", [n, n]);
  const b16 = g.cast(b, dtype);
  let c = g.cast(a, dtype);
  for (let i = 0; i < chain; i++) c = g.matMul(c, b16);
  g.output(chain > 1 ? g.reduceSum(g.cast(c, "float32"), [0, 1], false) : c, "c");
  const session = await createSession(g.toModel(), { device, threads });
  const rng = new Rng(1);
  // Scaled so a chain of products neither overflows fp16 nor underflows.
  const data = () =>
    Float32Array.from({ length: n * n }, () => (rng.next() - 0.5) * 2 / Math.sqrt(n));
  const memory = device.kind === "webgpu" ? new DeviceMemory() : undefined;
  const feed = (x: Float32Array) =>
    memory ? memory.upload(x, [n, n]) : Promise.resolve(new ort.Tensor("float32", x, [n, n]));
  const feeds = { a: await feed(data()), b: await feed(data()) };
  try {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      await session.run(feeds);
      times.push((performance.now() - s) / 1000);
    }
    return (2 * n ** 3 * chain) / median(times) / 1e9;
  } finally {
    if (memory) {
      feeds.a.dispose();
      feeds.b.dispose();
      await memory.release();
    }
    await session.release();
  }
}
