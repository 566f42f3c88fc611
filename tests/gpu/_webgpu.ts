/**
 * The webgpu tests' precondition: a WebGPU adapter. On a machine without a GPU that is Mesa's
 * software Vulkan driver (lavapipe) from Debian bookworm-backports, which .ci/run installs; without
 * it the tests fail, naming what to install, rather than skip (a skipped GPU test proves nothing).
 */
import { Graph } from "../../model/graph/mod.ts";
import { createSession } from "../../model/runtime.ts";

let probe: Promise<void> | undefined;

/** Resolves when a webgpu session compiles; rejects with how to get an adapter. */
export function requireWebGpu(): Promise<void> {
  return probe ??= (async () => {
    const g = new Graph();
    const x = g.input("x", "float32", [2, 2]);
    g.output(g.matMul(x, x), "y");
    try {
      await (await createSession(g.toModel(), { device: "webgpu" })).release();
    } catch (err) {
      throw new Error(
        "No WebGPU adapter, so the webgpu tests cannot run. Without a GPU, install the Vulkan " +
          "loader and Mesa's lavapipe from bookworm-backports as .ci/run does: add the " +
          "bookworm-backports suite to apt's sources, then `apt-get install -t bookworm-backports " +
          "mesa-vulkan-drivers libvulkan1` (bookworm's own Mesa 22.3 is refused)",
        { cause: err },
      );
    }
  })();
}

/** Largest |a − b| and largest |a|, to state a tolerance relative to the values' size. */
export function maxDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { diff: number; scale: number } {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { diff, scale };
}
