/**
 * A checkpoint whose weights do not fit its config.json is refused by loadCheckpoint, with an error
 * naming the key or the tensor, before anything is sized from the config. Each case edits a real
 * checkpoint on disk and re-records its checksums, as a hand-edited or badly converted checkpoint
 * would arrive.
 */
import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadCheckpoint,
  saveCheckpoint,
  type TensorToWrite,
} from "../../model/checkpoint/mod.ts";
import { InputError } from "../../model/errors.ts";
import type { GptConfig } from "../../model/gpt/mod.ts";
import { sha256Hex } from "../../model/sha256.ts";
import { contents } from "./_checkpoint_contents.ts";

/** Saves a valid checkpoint, lets `edit` change its files, re-records checksums, then loads it. */
async function loadEdited(
  edit: (dir: string) => Promise<void>,
): Promise<unknown> {
  const run = await Deno.makeTempDir({ prefix: "ckpt_validation_" });
  try {
    const { path } = await saveCheckpoint(run, contents(1));
    await loadCheckpoint(path); // valid before the edit
    await edit(path);
    await reseal(path);
    return await loadCheckpoint(path);
  } finally {
    await Deno.remove(run, { recursive: true });
  }
}

/** Rewrites state.json's sizes and sha256 so only the edit itself can be refused. */
async function reseal(dir: string): Promise<void> {
  const state = JSON.parse(await Deno.readTextFile(`${dir}/state.json`));
  for (const name of Object.keys(state.files)) {
    const bytes = await Deno.readFile(`${dir}/${name}`);
    state.files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }
  await Deno.writeTextFile(`${dir}/state.json`, JSON.stringify(state));
}

async function editConfig(dir: string, hf: Record<string, number>, ours: Partial<GptConfig>) {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  Object.assign(json, hf);
  Object.assign(json.denoformer, ours);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(json));
}

async function editWeights(dir: string, edit: (t: Map<string, TensorToWrite>) => void) {
  const file = decodeSafetensors(await Deno.readFile(`${dir}/model.safetensors`), "model");
  const tensors = new Map<string, TensorToWrite>(file.tensors);
  edit(tensors);
  await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(tensors, file.metadata));
}

async function refused(edit: (dir: string) => Promise<void>, where: RegExp, message: RegExp) {
  await assert.rejects(() => loadEdited(edit), (err: Error) => {
    assert.ok(err instanceof InputError, `${err.name}: ${err.message}`);
    assert.match(err.where, where);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("a vocabulary larger than the embedding table is refused naming wte", () =>
  refused(
    (dir) => editConfig(dir, { vocab_size: 20 }, { vocabSize: 20 }),
    /model\.safetensors: transformer\.wte\.weight$/,
    /Expected shape \[20, 4\], got \[16, 4\]/,
  ));

Deno.test("a context longer than the position table is refused naming wpe", () =>
  refused(
    (dir) => editConfig(dir, { n_positions: 64 }, { contextLength: 64 }),
    /transformer\.wpe\.weight$/,
    /Expected shape \[64, 4\], got \[8, 4\]/,
  ));

Deno.test("a width that disagrees with the tensors is refused naming the first tensor", () =>
  refused(
    (dir) => editConfig(dir, { n_embd: 8 }, { width: 8 }),
    /transformer\.wte\.weight$/,
    /Expected shape \[16, 8\], got \[16, 4\]/,
  ));

Deno.test("a transposed linear weight is refused naming it, with the Conv1D hint", () =>
  refused(
    (dir) =>
      editWeights(dir, (t) => {
        const w = t.get("transformer.h.0.mlp.c_fc.weight")!;
        t.set("transformer.h.0.mlp.c_fc.weight", { ...w, shape: [16, 4] });
      }),
    /transformer\.h\.0\.mlp\.c_fc\.weight$/,
    /Expected shape \[4, 16\], got \[16, 4\] \(transposed\?/,
  ));

Deno.test("a context of 1e9 is refused by its bound before anything is allocated", () =>
  refused(
    (dir) => editConfig(dir, { n_positions: 1e9 }, { contextLength: 1e9 }),
    /config\.json: n_positions$/,
    /At most 65536 \(got 1000000000\)/,
  ));

Deno.test("a width of 1,048,576 is refused by its bound", () =>
  refused(
    (dir) => editConfig(dir, { n_embd: 1 << 20 }, { width: 1 << 20 }),
    /config\.json: n_embd$/,
    /At most 16384 \(got 1048576\)/,
  ));

Deno.test("a NaN weight is refused naming the tensor and the element", () =>
  refused(
    (dir) =>
      editWeights(dir, (t) => {
        const w = t.get("transformer.h.0.attn.c_proj.weight")!;
        const data = new Float32Array((w.data as Uint8Array).slice().buffer);
        data[5] = NaN;
        t.set("transformer.h.0.attn.c_proj.weight", { ...w, data });
      }),
    /transformer\.h\.0\.attn\.c_proj\.weight$/,
    /Element 5 is NaN: weights must be finite/,
  ));

Deno.test("a tensor the config does not have, or an integer weight, is refused naming it", async () => {
  await refused(
    (dir) =>
      editWeights(dir, (t) => {
        t.set("transformer.h.1.ln_1.weight", {
          dtype: "F32",
          shape: [4],
          data: new Float32Array(4),
        });
      }),
    /transformer\.h\.1\.ln_1\.weight$/,
    /Unexpected tensor/,
  );
  await refused(
    (dir) =>
      editWeights(dir, (t) => {
        t.set("transformer.ln_f.bias", { dtype: "I32", shape: [4], data: new Int32Array(4) });
      }),
    /transformer\.ln_f\.bias$/,
    /Expected a float dtype, got "I32"/,
  );
});
