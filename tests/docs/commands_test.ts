/**
 * Every command in docs/*.md and README.md runs as written, as far as a test can tell without the hours a real
 * run takes: each `deno task X …` line in a shell code block names a task in deno.json, each of its
 * `--flags` (and its subcommand, for tasks with commands) appears in that task's `--help` (a task
 * that chains commands is given no arguments, and not run), and every name a TypeScript block
 * imports from the repo is really exported there.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const TASKS: Record<string, string> = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks;
const SHELL = new Set(["sh", "bash", "shell", "console"]);

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

/** Every page of docs/, and the README: its commands are the first a newcomer pastes. */
function pages(): { name: string; path: string }[] {
  return [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => ({ name: e.name, path: `${ROOT}docs/${e.name}` }))
    .concat({ name: "README.md", path: `${ROOT}README.md` });
}

function codeBlocks(): Block[] {
  const blocks: Block[] = [];
  for (const entry of pages()) {
    const lines = Deno.readTextFileSync(entry.path).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const open = lines[i].match(/^```(\w*)\s*$/);
      if (!open) continue;
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
      blocks.push({ file: entry.name, line: start + 1, lang: open[1], text: body.join("\n") });
    }
  }
  return blocks;
}

/** `deno task` lines of shell blocks, continuation lines joined, a leading `$ ` dropped. */
function taskCommands(): { where: string; command: string }[] {
  const out: { where: string; command: string }[] = [];
  for (const b of codeBlocks().filter((b) => SHELL.has(b.lang))) {
    const joined = b.text.replace(/\\\n/g, " ").split("\n");
    for (const line of joined) {
      const command = line.replace(/^\$\s+/, "").trim();
      if (command.startsWith("deno task ")) out.push({ where: `${b.file}:${b.line}`, command });
    }
  }
  return out;
}

const helpCache = new Map<string, Promise<string>>();
function help(task: string): Promise<string> {
  if (!helpCache.has(task)) {
    helpCache.set(
      task,
      (async () => {
        const r = await new Deno.Command(Deno.execPath(), {
          args: ["task", "--quiet", task, "--help"],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
        assert.equal(r.code, 0, `deno task ${task} --help exited ${r.code}: ${text}`);
        return text;
      })(),
    );
  }
  return helpCache.get(task)!;
}

Deno.test("the docs contain commands for every task they document", () => {
  const tasks = new Set(taskCommands().map((c) => c.command.split(/\s+/)[2]));
  for (const t of ["train", "ingest", "embeddings", "docs-images"]) assert.ok(tasks.has(t), t);
});

Deno.test("every `deno task` command in docs names a real task and only flags its --help lists", async () => {
  const problems: string[] = [];
  let checked = 0;
  for (const { where, command } of taskCommands()) {
    const words = command.split(/\s+/).map((w) => w.replace(/^[\[("']+|[\])"',.]+$/g, ""));
    const task = words[2];
    if (!(task in TASKS)) {
      problems.push(`${where}: no task "${task}" in deno.json`);
      continue;
    }
    // Arguments reach only the last command of a chain, so `--help` would run the others (for
    // `test`, the whole suite, this file included) and flags in docs could not mean what they say.
    if (/&&|\|\||;/.test(TASKS[task])) {
      if (command.replace(/\s+#.*$/, "").split(/\s+/).length > 3) {
        problems.push(
          `${where}: task "${task}" chains commands; its arguments reach the last only`,
        );
      }
      continue;
    }
    const text = await help(task);
    for (const w of words.slice(3)) {
      const flag = w.match(/^--[a-z0-9][a-z0-9-]*/)?.[0];
      if (!flag) continue;
      checked++;
      if (text.includes(flag)) continue;
      problems.push(`${where}: "${flag}" is not in \`deno task ${task} --help\``);
    }
    const commands = text.split(/\nCommands:\n/)[1]?.split("\n\n")[0];
    if (commands) {
      const names = [...commands.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
      if (!words.slice(3).some((w) => names.includes(w))) {
        problems.push(`${where}: no command of ${names.join("|")} in "${command}"`);
      }
    }
  }
  console.log(`${taskCommands().length} commands, ${checked} flags checked`);
  assert.deepEqual(problems, []);
});

Deno.test("every name a docs TypeScript block imports from the repo is exported by that module", async () => {
  const problems: string[] = [];
  for (const b of codeBlocks().filter((b) => b.lang === "ts" || b.lang === "typescript")) {
    for (const m of b.text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      const spec = m[2];
      // Snippets are written as if from a top-level folder such as worker/.
      if (!spec.startsWith(".")) continue;
      const url = new URL(spec, `file://${ROOT}worker/x.ts`);
      let mod: Record<string, unknown>;
      try {
        mod = await import(url.href);
      } catch (err) {
        problems.push(`${b.file}:${b.line}: cannot import "${spec}": ${(err as Error).message}`);
        continue;
      }
      for (const raw of m[1].split(",")) {
        const name = raw.trim();
        if (!name || name.startsWith("type ")) continue;
        if (!(name.split(/\s+as\s+/)[0] in mod)) {
          problems.push(`${b.file}:${b.line}: "${spec}" exports no "${name}"`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("every relative link in README.md and docs/ points to a file in the repo", () => {
  const broken: string[] = [];
  for (const { path: page } of pages()) {
    const text = Deno.readTextFileSync(page);
    for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const path = new URL(target, `file://${page}`).pathname;
      try {
        Deno.statSync(path);
      } catch {
        broken.push(`${page.slice(ROOT.length)} → ${target}`);
      }
    }
  }
  assert.deepEqual(broken, [], `broken links:\n${broken.join("\n")}`);
});
