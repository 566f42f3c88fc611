/** Test helpers: a seeded RNG and a way to run a built graph through a real onnxruntime session. */
import { createSession, ort } from "../../model/runtime.ts";
import type { Graph } from "../../model/graph/mod.ts";
export { seededRandom } from "../../model/optim/mod.ts";

/** Compiles `g` and returns a function that runs it on the given feeds. */
export async function compile(
  g: Graph,
): Promise<(feeds: Record<string, ort.Tensor>) => Promise<Record<string, ort.Tensor>>> {
  const session = await createSession(g.toModel(), { threads: 1 });
  return (feeds) => session.run(feeds);
}

/** Largest absolute difference between two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
