/**
 * The README's quick start as written, not a variant of it: the "Two commands" block is read from
 * README.md, its install line pins the Deno that .ci/run installs, and its `deno task coordinator`
 * runs without arguments (the full demo budget, port 50051) in a copy of the repository, so that a
 * developer's own runs/default is left alone. The commands its summary prints are pasted and must
 * work; Ctrl-C ends it cleanly with a usable checkpoint. It runs on its own, as
 * `deno task test:quickstart` (CI runs it after `deno task test`): a few minutes of two-worker
 * training beside the rest of the suite would crowd the timing of the failure tests.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../../model/checkpoint/mod.ts";
import { readManifest } from "../../model/data/mod.ts";
import { readStepRecords, readSummary } from "../_run_files.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The commands of the README's "Two commands" block, comments dropped. */
function quickStart(): string[] {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const block = /## Two commands\s+```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a "Two commands" section with a sh block');
  return block[1].split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
}

/** Splits a pasted command line into words, honouring double quotes. */
function words(line: string): string[] {
  return line.match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ""));
}

Deno.test("the README's install line pins the Deno that CI installs, and the two commands are the tasks", () => {
  const [install, ...commands] = quickStart();
  const pinned = /DENO_VERSION=(\S+)/.exec(Deno.readTextFileSync(`${ROOT}.ci/run`))![1];
  assert.equal(install, `npm install -g deno@${pinned}`);
  assert.deepEqual(commands, ["deno task coordinator", "deno task test"]);
});

Deno.test("`deno task coordinator` as the README writes it: ingest, 2 workers, checkpoint, server, generation", async () => {
  const [, coordinator] = quickStart();
  const copy = await Deno.makeTempDir({ prefix: "readme_quickstart_" });
  await copyRepository(copy);
  const child = new Deno.Command(Deno.execPath(), {
    args: words(coordinator).slice(1),
    cwd: copy,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const deadline = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
    while (!out.includes("Ctrl-C stops the server")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    clearTimeout(deadline);
    assert.match(out, /Ctrl-C stops the server/, `the demo ended early:\n${out}`);

    const run = `${copy}/runs/default`;
    const manifest = await readManifest(`${run}/data`);
    const kinds = new Set(manifest.files.filter((f) => f.status === "ok").map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ["code", "image", "pdf", "text"]);
    const summary = await readSummary(run);
    assert.equal(summary.step, 600);
    assert.ok(summary.weight_hash_checks.length > 0);
    assert.ok(summary.weight_hash_checks.every((c) => c.identical));
    assert.equal((await loadCheckpoint(run)).state.step, 600);
    const aborted = (await readStepRecords(run)).filter((r) => !r.committed);
    assert.deepEqual(aborted, [], "a healthy run aborts no step");
    const metrics = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((m) => typeof m.loss === "number");
    assert.ok(
      metrics.at(-1).loss < metrics[0].loss - 2,
      `the loss fell from ${metrics[0].loss} to ${metrics.at(-1).loss}`,
    );
    // The first line is the dashboard's address (signing in with the generated token); by now it
    // shows the finished run and links the server's playground.
    assert.match(out, /^dashboard on http:\/\/127\.0\.0\.1:\d+\/\?token=\S+\n/, out.slice(0, 300));
    const dashboard = new URL(/^dashboard on (\S+)/.exec(out)![1]);
    const bearer = { authorization: `Bearer ${dashboard.searchParams.get("token")}` };
    const shown = await fetch(new URL("/api/state", dashboard), { headers: bearer })
      .then((r) => r.json());
    const { state, rows } = shown.runs[0];
    assert.deepEqual([state.status, state.step], ["finished", 600]);
    assert.equal(rows.filter((r: (number | null)[]) => r[2] !== null).length, 600, "600 losses");
    const playground = await fetch(state.links.Playground);
    assert.equal(playground.status, 200);
    assert.match(await playground.text(), /<title>Playground/);
    const sample = /sample generation for "The model":\n([\s\S]*)\nrun directory/.exec(out)?.[1];
    assert.ok((sample?.trim().length ?? 0) > 20, `a sample generation was streamed:\n${out}`);

    // Every command under "talk to it:" works when pasted into a shell in the repository.
    const pasted = out.slice(out.indexOf("talk to it:")).split("\n").map((l) => l.trim())
      .filter((l) => l.startsWith("deno task "));
    assert.equal(pasted.length, 3, out);
    for (const line of pasted) {
      const r = await new Deno.Command(Deno.execPath(), {
        args: words(line).slice(1),
        cwd: copy,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(r.stdout);
      assert.equal(r.code, 0, `${line}\n${new TextDecoder().decode(r.stderr)}`);
      assert.ok(text.trim().length > 0, `${line} printed nothing`);
    }
  } finally {
    child.kill("SIGINT");
    const status = await child.status;
    await reader.cancel().catch(() => {});
    const err = await stderr;
    await Deno.remove(copy, { recursive: true });
    assert.equal(status.code, 0, `Ctrl-C ends the demo cleanly; its stderr:\n${err.slice(-3000)}`);
  }
});

/** The files git would check out (tracked, and new ones it does not ignore), and node_modules. */
async function copyRepository(to: string): Promise<void> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(listed.code, 0, "git ls-files in the repository");
  for (const file of new TextDecoder().decode(listed.stdout).split("\0").filter(Boolean)) {
    const dir = file.includes("/") ? `${to}/${file.slice(0, file.lastIndexOf("/"))}` : to;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.copyFile(`${ROOT}${file}`, `${to}/${file}`).catch((err) => {
      // A file deleted in the working tree but not yet in git's index.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
  await Deno.symlink(`${ROOT}node_modules`, `${to}/node_modules`);
}
