/**
 * Child process for the crash test in checkpoint_test.ts: builds a checkpoint of `floats` weights
 * for `step`, prints "saving" and saves it into `dir`. The parent kills it part-way through.
 * Usage: deno run -A checkpoint_child.ts DIR STEP FLOATS
 */
import { gpt2TensorShapes, saveCheckpoint } from "../../model/checkpoint/mod.ts";

const [dir, stepArg, floatsArg] = Deno.args;
const step = Number(stepArg), n = Number(floatsArg);
const wte = new Float32Array(n).fill(step);
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
await saveCheckpoint(dir, contents, { keepLast: 2 });
await Deno.stdout.write(new TextEncoder().encode("saved\n"));
