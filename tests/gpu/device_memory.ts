/** Tensors to GPU memory and back (webgpu; lavapipe in CI), for every dtype that crosses. */
import assert from "node:assert/strict";
import { DeviceMemory } from "../../model/device_memory.ts";
import { requireWebGpu } from "./_webgpu.ts";

Deno.test("float32, int32 and bool tensors come back from GPU memory as they went up", async () => {
  await requireWebGpu();
  const memory = new DeviceMemory();
  try {
    const f = Float32Array.of(1.5, -0, Infinity, NaN, 3e-38, -7);
    const i = Int32Array.of(2 ** 31 - 1, -(2 ** 31), 0, 42);
    const b = Uint8Array.of(1, 0, 0, 1, 1, 0);
    const up = [
      await memory.upload(f, [2, 3]),
      await memory.upload(i, [4]),
      await memory.upload(b, [3, 2]),
    ];
    assert.deepEqual(up.map((t) => [t.location, t.type, t.dims]), [
      ["gpu-buffer", "float32", [2, 3]],
      ["gpu-buffer", "int32", [4]],
      ["gpu-buffer", "bool", [3, 2]],
    ]);
    assert.deepEqual(await memory.download(up[0]), f);
    assert.deepEqual(await memory.download(up[1]), i);
    assert.deepEqual(await memory.download(up[2]), b);
    const zeros = await memory.zeros([5]);
    assert.deepEqual(await memory.download(zeros), new Float32Array(5));
    for (const t of [...up, zeros]) t.dispose();
  } finally {
    await memory.release();
  }
});
