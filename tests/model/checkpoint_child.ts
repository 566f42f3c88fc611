/**
 * Child process for the crash tests in checkpoint_test.ts: builds a checkpoint of `floats` weights
 * all equal to `value` (default: the step) for `step`, prints "saving" and saves it into `dir`.
 * The parent kills it part-way through, or, given `killAt`, it kills itself with SIGKILL just
 * before its `killAt`-th change to the file system (counting from 0), so that every point of the
 * save can be tried. A save it finishes prints the number of changes it made.
 * Usage: deno run -A checkpoint_child.ts DIR STEP FLOATS [VALUE [KILL_AT]]
 */
import { gpt2TensorShapes, saveCheckpoint } from "../../model/checkpoint/mod.ts";

const [dir, stepArg, floatsArg, valueArg, killAtArg] = Deno.args;
const step = Number(stepArg), n = Number(floatsArg);
const value = valueArg === undefined ? step : Number(valueArg);
const killAt = killAtArg === undefined ? -1 : Number(killAtArg);

let changes = 0;
for (const name of ["mkdir", "open", "rename", "remove", "writeFile", "writeTextFile"] as const) {
  const real = Deno[name].bind(Deno) as (...args: unknown[]) => unknown;
  // deno-lint-ignore no-explicit-any
  (Deno as any)[name] = (...args: unknown[]) => {
    const opensForWriting = name !== "open" || (args[1] as Deno.OpenOptions)?.write;
    if (opensForWriting && changes++ === killAt) Deno.kill(Deno.pid, "SIGKILL");
    return real(...args);
  };
}

const wte = new Float32Array(n).fill(value);
const config = {
  vocabSize: n / 4,
  contextLength: 8,
  layers: 1,
  heads: 1,
  width: 4,
  dropout: 0,
  positional: "learned" as const,
  tieEmbeddings: true,
  layerNormEpsilon: 1e-5,
};
// The weights the loader demands besides wte (tiny next to it), all holding the step too.
const tensors = new Map([...gpt2TensorShapes(config)].map(([name, shape]) => {
  const data = name === "transformer.wte.weight"
    ? wte
    : new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(step);
  return [name, { data, shape }];
}));
const contents = {
  config,
  tensors,
  tokenizerJson: "{}",
  optimizer: {
    step,
    m: new Map([["transformer.wte.weight", wte.map((x) => x / 2)]]),
    v: new Map([["transformer.wte.weight", wte.map((x) => x / 4)]]),
  },
  state: { step },
};
await Deno.stdout.write(new TextEncoder().encode("saving\n"));
const before = changes;
await saveCheckpoint(dir, contents, { keepLast: 2 });
await Deno.stdout.write(new TextEncoder().encode(`saved after ${changes - before} changes\n`));
