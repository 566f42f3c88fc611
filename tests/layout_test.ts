/**
 * The house rules of docs/architecture.md, read from the imports of every product file: data flows
 * one way, so the library under model/ imports nothing above it, and an entry point (a file run by
 * `deno run`: `main.ts`, `*_main.ts`) is imported by nothing but tests.
 */
import assert from "node:assert/strict";
import { projectPath } from "../model/subprocess.ts";

const ROOT = projectPath("");
const SOURCE = /\.(ts|js)$/;
const SKIP = new Set(["node_modules", "tests", ".git", "samples", "docs"]);

/** Every product source file, relative to the repository root. */
function sourceFiles(dir = ""): string[] {
  return [...Deno.readDirSync(ROOT + dir)].flatMap((e) => {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) return SKIP.has(e.name) || e.name.startsWith(".") ? [] : sourceFiles(path);
    return SOURCE.test(e.name) ? [path] : [];
  });
}

/** The repository files `file` imports by a relative path, as repository-relative paths. */
function imports(file: string): string[] {
  const text = Deno.readTextFileSync(ROOT + file);
  const specs = text.matchAll(/(?:from|import|import\()\s*["'](\.{1,2}\/[^"']+)["']/g);
  return [...specs].map((m) => new URL(m[1], `file:///${file}`).pathname.slice(1));
}

const edges = sourceFiles().flatMap((file) => imports(file).map((to) => ({ file, to })));
const isEntryPoint = (path: string) => /(^|\/)(main|\w+_main)\.ts$/.test(path);

Deno.test("the layout rules are read from real imports", () => {
  assert.ok(edges.length > 500, `only ${edges.length} imports found`);
  assert.ok(
    edges.some((e) => e.file === "coordinator/main.ts" && e.to === "coordinator/run_job.ts"),
  );
});

Deno.test("no product file imports an entry point", () => {
  const bad = edges.filter((e) => isEntryPoint(e.to)).map((e) => `${e.file} -> ${e.to}`);
  assert.deepEqual(bad, []);
});

Deno.test("model/, the library, imports nothing outside it", () => {
  const bad = edges
    .filter((e) => e.file.startsWith("model/") && !e.to.startsWith("model/"))
    .map((e) => `${e.file} -> ${e.to}`);
  assert.deepEqual(bad, []);
});
