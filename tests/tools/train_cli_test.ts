/** `deno task train` as a user runs it: a real process on a real text file. */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { type DenoOutput, denoOutput } from "../../model/subprocess.ts";

function train(args: string[]): Promise<DenoOutput> {
  return denoOutput("tools/train_main.ts", args);
}

Deno.test("deno task train writes metrics, a loss plot and checkpoints, and --resume continues", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const common = [
      "--data",
      "/usr/share/common-licenses/GPL-3",
      "--out",
      `${dir}/run`,
      "--context",
      "32",
      "--micro-batch",
      "4",
      "--eval-every",
      "4",
      "--checkpoint-every",
      "4",
      "--threads",
      "1",
      "--dropout",
      "0.1",
    ];
    const first = await train([...common, "--steps", "4"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).step, 4);
    const second = await train([...common, "--steps", "8", "--resume"]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resumed from .*step-000004 at step 4/);

    const lines = (await Deno.readTextFile(`${dir}/run/metrics.jsonl`)).trim().split("\n").map((
      l,
    ) => JSON.parse(l));
    assert.deepEqual(lines.filter((l) => "loss" in l).map((l) => l.step), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(lines.filter((l) => "val_loss" in l).map((l) => l.step), [4, 8]);
    for (const key of ["loss", "lr", "tokens_per_s", "loss_scale", "tokens"]) {
      assert.equal(typeof lines[0][key], "number");
    }
    const tokens = lines.filter((l) => "loss" in l).map((l) => l.tokens);
    assert.deepEqual(
      tokens,
      tokens.map((_, i) => (i + 1) * tokens[0]),
      "tokens seen, across the resume",
    );
    const config = JSON.parse(await Deno.readTextFile(`${dir}/run/job.json`));
    assert.equal(config.train.steps, 8);
    assert.equal(config.model.dropout, 0.1);
    const svg = await Deno.readTextFile(`${dir}/run/loss.svg`);
    assert.match(svg, /^<svg[\s\S]*validation[\s\S]*<\/svg>\s*$/);
    assert.equal((await Deno.readTextFile(`${dir}/run/checkpoints/latest`)).trim(), "step-000008");
    assert.equal((await loadCheckpoint(`${dir}/run`)).config.dropout, 0.1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task train names the bad flag and exits 2", async () => {
  const r = await train([
    "--data",
    "/usr/share/common-licenses/GPL-3",
    "--out",
    "/tmp/x",
    "--steps",
    "many",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--steps: expected a non-negative integer, got "many"/);
  const dropout = await train([
    "--data",
    "/usr/share/common-licenses/GPL-3",
    "--out",
    "/tmp/x",
    "--dropout",
    "2",
  ]);
  assert.equal(dropout.code, 2);
  assert.match(dropout.stderr, /--dropout: .*0\.9.*\(got 2\)/);
  // A value the training config's schema refuses is reported as the flag, not the field.
  const accum = await train([
    "--data",
    "/usr/share/common-licenses/GPL-3",
    "--out",
    "/tmp/x",
    "--grad-accum",
    "0",
  ]);
  assert.equal(accum.code, 2);
  assert.match(accum.stderr, /--grad-accum: .*\(got 0\)/);
  // Enumerated flags are checked by the same schemas, named as flags, listing what is allowed.
  const data = ["--data", "/usr/share/common-licenses/GPL-3", "--out", "/tmp/x"];
  for (
    const [flag, value, allowed] of [
      ["--preset", "huge", /tiny.*small.*gpt2/],
      ["--precision", "fp8", /fp32.*fp16.*bf16/],
      ["--positional", "rotary", /learned.*sinusoidal/],
    ] as const
  ) {
    const r = await train([...data, flag, value]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag}: .*\\(got "${value}"\\)`));
    assert.match(r.stderr, allowed);
  }
  const missing = await train(["--data", "/nonexistent/file.txt", "--out", "/tmp/x"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--data: "\/nonexistent\/file.txt" does not exist/);
});
