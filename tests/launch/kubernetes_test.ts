/**
 * The Kubernetes manifests (deploy/kubernetes/*.yaml) checked against the Kubernetes API types:
 * every document becomes a TypeScript constant of its kind's type from `kubernetes-types` (made
 * from Kubernetes' OpenAPI schema) and `deno check` judges them, refusing unknown fields (a typo),
 * missing required ones and wrong types, as `kubectl apply --validate=strict` would. No cluster
 * runs them.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";

const root = new URL("../../", import.meta.url).pathname;
const dir = `${root}deploy/kubernetes`;

/** kind → the `kubernetes-types` module and type that describe it. */
const types: Record<string, { module: string; apiVersion: string }> = {
  ConfigMap: { module: "core/v1", apiVersion: "v1" },
  Deployment: { module: "apps/v1", apiVersion: "apps/v1" },
  Job: { module: "batch/v1", apiVersion: "batch/v1" },
  PersistentVolumeClaim: { module: "core/v1", apiVersion: "v1" },
  Secret: { module: "core/v1", apiVersion: "v1" },
  Service: { module: "core/v1", apiVersion: "v1" },
};

interface Manifest {
  where: string;
  doc: Record<string, unknown>;
}

async function manifests(): Promise<Manifest[]> {
  const found: Manifest[] = [];
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".yaml")) continue;
    const docs = parseAllDocuments(await Deno.readTextFile(`${dir}/${entry.name}`));
    for (const [i, d] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      assert.deepEqual(d.errors, [], `${entry.name}: YAML errors`);
      found.push({ where: `${entry.name} document ${i + 1}`, doc: d.toJS() });
    }
  }
  return found;
}

/** A TypeScript constant of the document's kind; on one line when `expectError`. */
function declaration(name: string, m: Manifest, expectError = false): string {
  const kind = String(m.doc.kind);
  assert.ok(kind in types, `${m.where}: no type for kind "${kind}"`);
  assert.equal(m.doc.apiVersion, types[kind].apiVersion, `${m.where}: apiVersion`);
  const body = JSON.stringify(m.doc, null, expectError ? undefined : 2);
  return `// ${m.where}\n${expectError ? "// @ts-expect-error\n" : ""}` +
    `export const ${name}: ${kind} = ${body};\n`;
}

/** Runs `deno check` on declarations of these documents; returns its output, "" when it passes. */
async function typeCheck(declarations: string[]): Promise<string> {
  const modules = new Map<string, string[]>();
  for (const [kind, { module }] of Object.entries(types)) {
    modules.set(module, [...modules.get(module) ?? [], kind]);
  }
  const imports = [...modules].map(([module, kinds]) =>
    `import type { ${kinds.join(", ")} } from "kubernetes-types/${module}.d.ts";\n`
  );
  const dir = await Deno.makeTempDir();
  const file = `${dir}/manifests.ts`;
  await Deno.writeTextFile(file, imports.join("") + declarations.join("\n"));
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      // The project's config maps "kubernetes-types/" to the vendored npm package.
      args: ["check", "--quiet", "--config", `${root}deno.json`, file],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return out.success ? "" : text || `deno check exited ${out.code}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the Kubernetes manifests are a Secret, a coordinator Deployment and Service, and an Indexed Job of workers, each valid for its API type", async () => {
  const all = await manifests();
  const kinds = all.map((m) => `${m.doc.kind}/${(m.doc.metadata as { name: string }).name}`);
  for (
    const k of [
      "Secret/denoformer-token",
      "Service/denoformer-coordinator",
      "Deployment/denoformer-coordinator",
      "Job/denoformer-workers",
    ]
  ) assert.ok(kinds.includes(k), `no ${k} in ${kinds.join(", ")}`);

  const job = all.find((m) => m.doc.kind === "Job")!.doc as {
    spec: { completionMode: string; completions: number; parallelism: number };
  };
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.completions, job.spec.parallelism);
  const config = all.find((m) => m.doc.kind === "ConfigMap")!.doc as {
    data: { "job.json": string };
  };
  assert.equal(JSON.parse(config.data["job.json"]).minWorkers, job.spec.completions);
  const text = JSON.stringify(all.map((m) => m.doc));
  assert.doesNotMatch(text, /--token/, "the token travels in the environment, from the Secret");

  // The real documents must pass; each broken copy must fail (else the check proves nothing).
  const broken = brokenCopies(all);
  const declarations = [
    ...all.map((m, i) => declaration(`manifest${i}`, m)),
    ...broken.map((m, i) => declaration(`broken${i}`, m, true)),
  ];
  assert.equal(await typeCheck(declarations), "");
});

/** Copies of the worker Job, each with one mistake a schema must catch. */
function brokenCopies(all: Manifest[]): Manifest[] {
  const job = all.find((m) => m.doc.kind === "Job")!;
  const copy = (where: string, edit: (pod: Record<string, unknown>) => void): Manifest => {
    const doc = structuredClone(job.doc);
    edit((doc as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec);
    return { where: `${job.where}, ${where}`, doc };
  };
  return [
    copy("a misspelt field", (pod) => {
      pod.contaners = pod.containers;
      delete pod.containers;
    }),
    copy("a number as a string", (pod) => {
      (pod.containers as { ports?: unknown }[])[0].ports = [{ containerPort: "50051" }];
    }),
    copy("a container without its required name", (pod) => {
      delete (pod.containers as { name?: string }[])[0].name;
    }),
  ];
}
