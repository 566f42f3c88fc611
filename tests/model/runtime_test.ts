/** The `--device` flag and what a user sees when the device cannot run a session. */
import assert from "node:assert/strict";
import { Graph } from "../../model/graph/mod.ts";
import { createSyncSession, ort, parseDevice } from "../../model/runtime.ts";

Deno.test("--device takes cpu, webgpu, cuda and cuda:N, and refuses webgpu:N saying how to pick a GPU", () => {
  assert.deepEqual(parseDevice("cpu"), { kind: "cpu" });
  assert.deepEqual(parseDevice("webgpu"), { kind: "webgpu" });
  assert.deepEqual(parseDevice("cuda"), { kind: "cuda", id: 0 });
  assert.deepEqual(parseDevice("cuda:3"), { kind: "cuda", id: 3 });
  assert.throws(
    () => parseDevice("webgpu:1"),
    /--device: "webgpu:1": .*takes no adapter index.*docs\/gpu\.md/,
  );
  assert.throws(
    () => parseDevice("gpu"),
    /--device: expected "cpu", "webgpu", "cuda" or "cuda:N", got "gpu"/,
  );
});

Deno.test("webgpu on a host without a Vulkan driver fails naming libvulkan1 and the driver", async () => {
  const script = `
    import { createSession } from "${new URL("../../model/runtime.ts", import.meta.url).href}";
    import { Graph } from "${new URL("../../model/graph/mod.ts", import.meta.url).href}";
    const g = new Graph();
    const x = g.input("x", "float32", [2]);
    g.output(g.add(x, x), "y");
    try { await createSession(g.toModel(), { device: "webgpu" }); } catch (e) { console.log(e.message); }
  `;
  // The Vulkan loader finds no driver at all: what a host without a GPU driver looks like.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { VK_DRIVER_FILES: "/nonexistent.json", VK_ICD_FILENAMES: "/nonexistent.json" },
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /could not load the model on webgpu: .*No supported adapters/);
  assert.match(text, /No usable GPU adapter: the host needs the Vulkan loader \(.*libvulkan1\)/);
});

Deno.test("a synchronous session writes its outputs into the given tensors and names a model it cannot load", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [3]);
  g.output(g.add(x, x), "y");
  const y = new Float32Array(3);
  createSyncSession(g.toModel()).runInto(
    { x: new ort.Tensor("float32", new Float32Array([1, 2, 3]), [3]) },
    { y: new ort.Tensor("float32", y, [3]) },
  );
  assert.deepEqual(Array.from(y), [2, 4, 6]);
  assert.throws(
    () => createSyncSession(new TextEncoder().encode("not a model")),
    /onnxruntime could not load the model on cpu: /,
  );
});
