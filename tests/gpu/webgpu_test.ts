/**
 * Every webgpu test, in one test file so that they run one after another: Deno's parallel test
 * runner puts test files on threads of one process, and onnxruntime's WebGPU provider breaks when
 * sessions on two threads of one process run at once (onnxruntime issue 32561).
 */
import assert from "node:assert/strict";
import "./decode.ts";
import "./device_adamw.ts";
import "./device_memory.ts";
import "./mixed_ring.ts";
import "./train_step.ts";

Deno.test("this file imports every webgpu test module of tests/gpu/", async () => {
  const here = new URL(".", import.meta.url);
  const source = await Deno.readTextFile(new URL("webgpu_test.ts", here));
  const imported = [...source.matchAll(/^import "\.\/(\w+\.ts)";$/gm)].map((m) => m[1]);
  const modules = [...Deno.readDirSync(here)].map((e) => e.name)
    .filter((n) => n.endsWith(".ts") && !n.startsWith("_") && n !== "webgpu_test.ts");
  assert.deepEqual(imported.sort(), modules.sort());
});
