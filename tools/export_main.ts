/**
 * `deno task export --checkpoint RUN --format onnx --out DIR`: writes the model as a folder that
 * transformers.js and Optimum load (onnx/model.onnx with past key/values, config.json, tokenizer
 * files, model.safetensors). RUN is a run or checkpoint directory, or a Hugging Face GPT-2 one.
 */
import { parseArgs } from "node:util";
import { loadModelDir } from "../model/checkpoint/mod.ts";
import { InputError } from "../model/errors.ts";
import { exportOnnx } from "../model/export/mod.ts";
import { runCli } from "../model/cli.ts";

const usage = `Usage: deno task export --checkpoint PATH --out DIR [--format onnx]

  --checkpoint PATH   run directory, its checkpoints/, a step directory, or a Hugging Face GPT-2
                      directory (verified as serve does)
  --format onnx       the only format: an ONNX decoder with past key/values (default onnx)
  --out DIR           a new folder; load it with transformers.js:
                        AutoModelForCausalLM.from_pretrained(DIR, { dtype: "fp32" })
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    strict: true,
    options: {
      checkpoint: { type: "string" },
      format: { type: "string", default: "onnx" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) {
    console.log(usage);
    return;
  }
  if (!f.checkpoint) throw new InputError("--checkpoint", "is required (a run or model directory)");
  if (!f.out) throw new InputError("--out", "is required (a new folder)");
  if (f.format !== "onnx") throw new InputError("--format", `expected onnx, got "${f.format}"`);
  const model = await loadModelDir(f.checkpoint);
  const exported = await exportOnnx(model, f.out);
  console.log(JSON.stringify({ from: model.path, ...exported }));
}
