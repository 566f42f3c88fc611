import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  checkGpt2Tensors,
  fromHfConfig,
  gpt2TensorShapes,
  loadCheckpoint,
  saveCheckpoint,
  toHfConfig,
} from "../../model/checkpoint/mod.ts";
import { ChecksumError, InputError } from "../../model/errors.ts";
import { type GptConfig, GptConfig as GptSchema, sinusoidalTable } from "../../model/gpt/mod.ts";
import { TrainConfig, Trainer } from "../../model/train/mod.ts";
import { InferenceEngine } from "../../model/infer/mod.ts";
import { Rng } from "../../model/optim/mod.ts";
import { denoRun } from "../../model/subprocess.ts";
import { publishedGpt2Config } from "../pretrained/_hf_dir.ts";
import { config, contents } from "./_checkpoint_contents.ts";
import { maxAbsDiff, tinyModel } from "../infer/_model.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ckpt_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

Deno.test("checkpoint round trip is bit-exact for weights, moments, tokenizer, config and state", () =>
  withTempDir(async (run) => {
    const c = contents(100);
    const saved = await saveCheckpoint(`${run}/checkpoints`, c);
    assert.equal(saved.path, `${run}/checkpoints/step-000100`);
    const names = [...Deno.readDirSync(saved.path)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "config.json",
      "model.safetensors",
      "optimizer.safetensors",
      "state.json",
      "tokenizer.json",
    ]);
    const loaded = await loadCheckpoint(run);
    assert.equal(loaded.path, saved.path);
    assert.deepEqual([...loaded.tensors.keys()].sort(), [...c.tensors.keys()].sort());
    for (const [name, t] of c.tensors) {
      assert.deepEqual(bits(loaded.tensors.get(name)!.data), bits(t.data), name);
      assert.deepEqual(loaded.tensors.get(name)!.shape, t.shape);
      assert.deepEqual(bits(loaded.optimizer.m.get(name)!), bits(c.optimizer.m.get(name)!));
      assert.deepEqual(bits(loaded.optimizer.v.get(name)!), bits(c.optimizer.v.get(name)!));
    }
    assert.equal(loaded.optimizer.step, 100);
    assert.equal(loaded.tokenizerJson, c.tokenizerJson);
    assert.deepEqual(loaded.config, config);
    assert.deepEqual(loaded.state, c.state);
    assert.deepEqual(
      Rng.fromState(loaded.state.rng as never).next(),
      Rng.fromState(c.state.rng as never).next(),
    );
    assert.equal(loaded.hfConfig.tie_word_embeddings, true);
    assert.ok(!loaded.tensors.has("lm_head.weight"), "tied head stored once, as wte");
  }));

Deno.test("state.json records the sha256 and size of every other file", () =>
  withTempDir(async (run) => {
    const { path } = await saveCheckpoint(run, contents(7));
    const state = JSON.parse(await Deno.readTextFile(`${path}/state.json`));
    assert.equal(state.step, 7);
    for (
      const name of ["model.safetensors", "optimizer.safetensors", "config.json", "tokenizer.json"]
    ) {
      const bytes = await Deno.readFile(`${path}/${name}`);
      assert.equal(state.files[name].sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(state.files[name].bytes, bytes.length);
    }
  }));

Deno.test("a flipped byte in model.safetensors is refused with a ChecksumError naming it", () =>
  withTempDir(async (run) => {
    const { path } = await saveCheckpoint(run, contents(1));
    const file = `${path}/model.safetensors`;
    const bytes = await Deno.readFile(file);
    bytes[bytes.length - 5] ^= 0x01;
    await Deno.writeFile(file, bytes);
    await assert.rejects(() => loadCheckpoint(path), (err: Error) => {
      assert.ok(err instanceof ChecksumError);
      assert.equal(err.path, file);
      assert.match(err.message, /model\.safetensors/);
      return true;
    });
  }));

Deno.test("a truncated file is refused with an error naming it", () =>
  withTempDir(async (run) => {
    const { path } = await saveCheckpoint(run, contents(1));
    for (const name of ["model.safetensors", "optimizer.safetensors", "tokenizer.json"]) {
      const file = `${path}/${name}`;
      const bytes = await Deno.readFile(file);
      await Deno.writeFile(file, bytes.subarray(0, bytes.length - 1));
      await assert.rejects(() => loadCheckpoint(path), (err: Error) => {
        assert.ok(err instanceof InputError);
        assert.equal(err.where, file);
        assert.match(err.message, /truncated/);
        return true;
      });
      await Deno.writeFile(file, bytes);
    }
    await Deno.remove(`${path}/config.json`);
    await assert.rejects(() => loadCheckpoint(path), /config\.json: Cannot read/);
    await Deno.writeTextFile(`${path}/state.json`, "{");
    await assert.rejects(() => loadCheckpoint(path), /state\.json: Not valid JSON/);
  }));

Deno.test("latest names the newest checkpoint and every way of pointing at it resolves there", () =>
  withTempDir(async (run) => {
    const dir = `${run}/checkpoints`;
    await saveCheckpoint(dir, contents(100));
    const { path } = await saveCheckpoint(dir, contents(200));
    assert.equal(await Deno.readTextFile(`${dir}/latest`), "step-000200\n");
    assert.ok((await Deno.lstat(`${dir}/latest`)).isFile, "latest is a plain file");
    for (const p of [run, dir, `${dir}/latest`, path, `${path}/`]) {
      assert.equal((await loadCheckpoint(p)).state.step, 200, p);
    }
    assert.equal((await loadCheckpoint(`${dir}/step-000100`)).state.step, 100);
    await assert.rejects(() => loadCheckpoint(`${run}/nope`), InputError);
  }));

Deno.test("only the newest keepLast checkpoints are kept", () =>
  withTempDir(async (dir) => {
    for (const step of [1, 2, 3, 4, 5]) await saveCheckpoint(dir, contents(step), { keepLast: 2 });
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["latest", "step-000004", "step-000005"]);
    await saveCheckpoint(dir, contents(6), { keepLast: 0 });
    assert.equal([...Deno.readDirSync(dir)].length, 4, "keepLast 0 keeps all");
  }));

Deno.test("a crash mid-write leaves the previous checkpoint loadable and is cleaned up next save", () =>
  withTempDir(async (dir) => {
    await saveCheckpoint(dir, contents(100));
    // Simulate a writer killed mid-way through step 200: a temp dir with a partial file.
    const tmp = `${dir}/.tmp-step-000200-dead`;
    await Deno.mkdir(tmp);
    const full = await Deno.readFile(`${dir}/step-000100/model.safetensors`);
    await Deno.writeFile(`${tmp}/model.safetensors`, full.subarray(0, 100));
    const loaded = await loadCheckpoint(dir);
    assert.equal(loaded.state.step, 100);
    await saveCheckpoint(dir, contents(200));
    assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name.startsWith(".tmp")));
    assert.equal((await loadCheckpoint(dir)).state.step, 200);
  }));

Deno.test("saving the same step again replaces that checkpoint", () =>
  withTempDir(async (dir) => {
    await saveCheckpoint(dir, contents(5, 1));
    await saveCheckpoint(dir, contents(5, 2));
    const loaded = await loadCheckpoint(dir);
    const want = contents(5, 2).tensors.get("transformer.wte.weight")!.data;
    assert.deepEqual(bits(loaded.tensors.get("transformer.wte.weight")!.data), bits(want));
  }));

Deno.test("a buffer stored under two names, or a tied head stored at all, is refused", () =>
  withTempDir(async (dir) => {
    const tied = contents(1);
    const wte = tied.tensors.get("transformer.wte.weight")!;
    const shared = new Map(tied.tensors).set("lm_head.weight", wte);
    await assert.rejects(
      () => saveCheckpoint(dir, { ...tied, tensors: shared }),
      /lm_head\.weight: Tied embeddings store transformer\.wte\.weight only/,
    );
    await assert.rejects(
      () =>
        saveCheckpoint(dir, {
          ...tied,
          config: { ...config, tieEmbeddings: false },
          tensors: shared,
        }),
      /Shares memory with "transformer\.wte\.weight"/,
    );
    await assert.rejects(
      () => saveCheckpoint(dir, { ...tied, config: { ...config, tieEmbeddings: false } }),
      /Untied embeddings need lm_head\.weight/,
    );
    const untied = new Map(tied.tensors).set("lm_head.weight", {
      data: wte.data.slice(),
      shape: wte.shape,
    });
    const m = new Map(tied.optimizer.m).set("lm_head.weight", wte.data.slice());
    const v = new Map(tied.optimizer.v).set("lm_head.weight", wte.data.slice());
    const { path } = await saveCheckpoint(dir, {
      ...tied,
      config: { ...config, tieEmbeddings: false },
      tensors: untied,
      optimizer: { step: 1, m, v },
    });
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.config.tieEmbeddings, false);
    assert.ok(loaded.tensors.has("lm_head.weight"));
  }));

Deno.test("config.json speaks Hugging Face GPT-2 and reads back, including a plain GPT-2 config", () => {
  const hf = toHfConfig({ ...config, positional: "sinusoidal", dropout: 0.1 });
  assert.equal(hf.model_type, "gpt2");
  assert.deepEqual(hf.architectures, ["GPT2LMHeadModel"]);
  assert.equal(hf.n_embd, 4);
  assert.equal(hf.n_positions, 8);
  assert.equal(hf.tie_word_embeddings, true);
  assert.equal(fromHfConfig(JSON.parse(JSON.stringify(hf))).positional, "sinusoidal");
  // The keys of the published gpt2 config.json (no denoformer block).
  const gpt2 = publishedGpt2Config({
    vocabSize: 50257,
    contextLength: 1024,
    layers: 12,
    heads: 12,
    width: 768,
    tieEmbeddings: true,
  });
  assert.deepEqual(fromHfConfig(gpt2), {
    vocabSize: 50257,
    contextLength: 1024,
    layers: 12,
    heads: 12,
    width: 768,
    dropout: 0.1,
    positional: "learned",
    tieEmbeddings: true,
    layerNormEpsilon: 1e-5,
  });
  assert.throws(() => fromHfConfig({ ...hf, n_embd: 8 }, "c.json"), /c\.json: n_embd: Disagrees/);
  assert.throws(
    () => fromHfConfig({ ...gpt2, model_type: "llama" }, "c.json"),
    /c\.json: model_type/,
  );
});

Deno.test("the GPT-2 layout for the 124M shape has GPT-2's 124,439,808 parameters", () => {
  const gpt2 = {
    ...config,
    vocabSize: 50257,
    contextLength: 1024,
    layers: 12,
    heads: 12,
    width: 768,
  };
  const shapes = gpt2TensorShapes(gpt2);
  const count = [...shapes.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  assert.equal(count, 124_439_808);
  assert.deepEqual(shapes.get("transformer.h.11.attn.c_attn.weight"), [768, 2304]);
  assert.equal(shapes.size, 2 + 12 * 12 + 2);
  const untied = gpt2TensorShapes({ ...gpt2, tieEmbeddings: false });
  assert.deepEqual(untied.get("lm_head.weight"), [50257, 768]);
});

Deno.test("checkGpt2Tensors names a missing, unexpected or misshapen tensor", () => {
  const shapes = gpt2TensorShapes(config);
  const tensors = new Map([...shapes].map(([k, shape]) => [k, { shape }]));
  checkGpt2Tensors(config, tensors);
  const missing = new Map(tensors);
  missing.delete("transformer.h.0.mlp.c_fc.bias");
  assert.throws(
    () => checkGpt2Tensors(config, missing),
    /transformer\.h\.0\.mlp\.c_fc\.bias: Missing/,
  );
  const bad = new Map(tensors).set("transformer.wte.weight", { shape: [4, 16] });
  assert.throws(
    () => checkGpt2Tensors(config, bad),
    /wte\.weight: Expected shape \[16, 4\], got \[4, 16\]/,
  );
  const extra = new Map(tensors).set("lm_head.weight", { shape: [16, 4] });
  assert.throws(() => checkGpt2Tensors(config, extra), /lm_head\.weight: Unexpected tensor: tied/);
  const noWpe = new Map(tensors);
  noWpe.delete("transformer.wpe.weight");
  assert.throws(() => checkGpt2Tensors(config, noWpe), /wpe\.weight: Missing/);
  checkGpt2Tensors({ ...config, positional: "sinusoidal" }, noWpe);
});

Deno.test("a writer killed at any moment leaves a loadable checkpoint, old or new", () =>
  withTempDir(async (dir) => {
    const child = new URL("./checkpoint_child.ts", import.meta.url);
    const save = (step: number) =>
      denoRun(child, [dir, String(step), String(4 * 1024 * 1024)], {
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    const first = save(100);
    assert.ok((await first.output()).success);
    const outcomes: number[] = [];
    for (const [k, delayMs] of [0, 15, 40, 80, 160, 320].entries()) {
      const step = 200 + k;
      const proc = save(step);
      const reader = proc.stdout.getReader();
      let seen = "";
      while (!seen.includes("saving\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      await new Promise((r) => setTimeout(r, delayMs));
      try {
        proc.kill("SIGKILL");
      } catch { /* already finished */ }
      await proc.status;
      reader.releaseLock();
      await proc.stdout.cancel().catch(() => {});
      const loaded = await loadCheckpoint(dir); // must never throw
      const wte = loaded.tensors.get("transformer.wte.weight")!.data;
      assert.equal(wte[wte.length - 1], loaded.state.step, "weights belong to the step they claim");
      outcomes.push(loaded.state.step);
    }
    console.log(`Loaded steps after kills at 0-320 ms: ${outcomes.join(", ")}`);
  }));

Deno.test("saving a step that exists, killed before any of its changes to the disk, leaves latest on a whole checkpoint", () =>
  withTempDir(async (root) => {
    const child = new URL("./checkpoint_child.ts", import.meta.url).pathname;
    // The final save of a run whose --steps is a multiple of --checkpoint-every saves its last
    // step twice: with nothing older (--steps 100) the directories must be swapped in one step;
    // with an older checkpoint, where no swap is possible (no FFI permission), `latest` points
    // there for the moment the step directory is missing.
    const cases = [
      { name: "the only checkpoint, swapped", steps: [100], permissions: ["--allow-all"] },
      {
        name: "an older checkpoint, no swap",
        steps: [50, 100],
        permissions: ["--allow-read", "--allow-write", "--allow-run"],
      },
    ];
    for (const c of cases) {
      /** Saves step 100 again over the case's checkpoints, killed before change `killAt`. */
      const resave = async (dir: string, killAt: number) => {
        for (const step of c.steps) await saveCheckpoint(dir, contents(step));
        const args = [...c.permissions, child, dir, "100", "1024", "7", String(killAt)];
        const out = await new Deno.Command(Deno.execPath(), { args: ["run", ...args] }).output();
        return new TextDecoder().decode(out.stdout);
      };
      const changes = Number(/saved after (\d+) changes/.exec(await resave(`${root}/all`, -1))![1]);
      const seen = new Set<string>();
      for (let first = 0; first < changes; first += 4) {
        const kills = [first, first + 1, first + 2, first + 3].filter((k) => k < changes);
        await Promise.all(kills.map(async (killAt) => {
          const dir = `${root}/${c.steps.length}-${killAt}`;
          assert.doesNotMatch(await resave(dir, killAt), /saved/, "it was killed");
          for (const e of Deno.readDirSync(dir)) {
            if (e.name.startsWith("step-")) await loadCheckpoint(`${dir}/${e.name}`); // all whole
          }
          const latest = await loadCheckpoint(dir); // must never throw
          const wte = latest.tensors.get("transformer.wte.weight")!.data;
          if (wte.every((x) => x === 7)) seen.add("the new 100");
          else {
            const old = contents(latest.state.step).tensors.get("transformer.wte.weight")!.data;
            assert.deepEqual(bits(wte), bits(old), `${c.name}, killed at ${killAt}: a mix`);
            seen.add(`the old ${latest.state.step}`);
          }
        }));
      }
      console.log(
        `${c.name}, killed at each of ${changes} changes: latest held ${[...seen].join(", ")}`,
      );
    }
  }));

Deno.test("a sinusoidal checkpoint stores its table as transformer.wpe.weight, and a GPT-2 loader runs it unchanged", () =>
  withTempDir(async (dir) => {
    const { cfg, weights } = tinyModel({ positional: "sinusoidal", contextLength: 16 });
    assert.ok(!weights.has("transformer.wpe.weight"), "sinusoidal positions have no parameter");
    await saveCheckpoint(dir, {
      config: cfg,
      tensors: weights,
      tokenizerJson: "{}",
      optimizer: { step: 0, m: new Map(), v: new Map() },
      state: { step: 1 },
    });
    const ckpt = await loadCheckpoint(dir);
    const wpe = ckpt.tensors.get("transformer.wpe.weight")!;
    assert.deepEqual(wpe.shape, [16, cfg.width]);
    assert.deepEqual(bits(wpe.data), bits(sinusoidalTable(16, cfg.width)));
    // What a GPT-2 loader sees: config.json's Hugging Face keys (learned positions) and the tensors.
    const { denoformer: _, ...gpt2Keys } = ckpt.hfConfig;
    const gpt2 = fromHfConfig(gpt2Keys, "config.json");
    assert.equal(gpt2.positional, "learned");
    checkGpt2Tensors(gpt2, ckpt.tensors);
    const prompt = [5, 17, 42, 8, 99, 3, 250, 61];
    const logits = async (c: GptConfig, w: typeof weights) => {
      const engine = await InferenceEngine.create(c, w, { maxBatch: 1, threads: 1 });
      return await engine.forwardFull([prompt]);
    };
    const ours = await logits(cfg, weights), theirs = await logits(gpt2, ckpt.tensors);
    const diff = maxAbsDiff(ours, theirs);
    console.log(`sinusoidal model vs the same checkpoint read as GPT-2: max |Δlogit| ${diff}`);
    assert.ok(diff < 1e-5, `logits differ by ${diff}`);
  }));

Deno.test("docs/checkpoints.md shows the state.json a trainer writes, key for key", () =>
  withTempDir(async (dir) => {
    const model = GptSchema.parse({
      vocabSize: 16,
      contextLength: 8,
      layers: 1,
      heads: 1,
      width: 8,
    });
    const trainer = await Trainer.create({
      model,
      train: TrainConfig.parse({ steps: 1, microBatch: 1, precision: "fp16" }),
      trainTokens: Uint16Array.from({ length: 64 }, (_, i) => (i * 7) % 16),
      tokenizerJson: "{}",
      threads: 1,
    });
    await trainer.trainStep();
    const { path } = await saveCheckpoint(dir, await trainer.checkpointContents());
    const real = JSON.parse(await Deno.readTextFile(`${path}/state.json`));
    const doc = await Deno.readTextFile(new URL("../../docs/checkpoints.md", import.meta.url));
    const example = /### state\.json\s+```json\n([\s\S]*?)\n```/.exec(doc)![1];
    /** Every key path of a JSON value, objects only (values may differ). */
    const keys = (v: unknown, at = ""): string[] =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.entries(v).flatMap(([k, x]) => [`${at}${k}`, ...keys(x, `${at}${k}.`)]).sort()
        : [];
    assert.deepEqual(keys(JSON.parse(example)), keys(real));
  }));
