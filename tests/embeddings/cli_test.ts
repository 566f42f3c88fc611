/**
 * `deno task embeddings` end to end: each command run as a real process on a real small checkpoint,
 * its JSON output checked, its images opened (SVG parsed for the labels, PNG by signature and size).
 */
import assert from "node:assert/strict";
import { smallCheckpoint } from "./_checkpoint.ts";
import { type DenoOutput, denoOutput } from "../../model/subprocess.ts";

const { dir } = await smallCheckpoint();
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function run(...args: string[]): Promise<DenoOutput> {
  return denoOutput("tools/embeddings_main.ts", args);
}

async function json(...args: string[]) {
  const r = await run("--checkpoint", dir, "--json", ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Text content of an SVG's <text> elements, entities decoded. */
function svgTexts(svg: string): string[] {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
  );
}

Deno.test("similar prints k neighbours sorted by descending cosine, the word itself excluded", async () => {
  const r = await json("similar", "License", "--k", "7");
  assert.equal(r.neighbours.length, 7);
  for (let i = 1; i < 7; i++) assert.ok(r.neighbours[i - 1].score >= r.neighbours[i].score);
  for (const n of r.neighbours) assert.ok(!r.word.ids.includes(n.id));
  const text = await run("--checkpoint", dir, "similar", "License", "--k", "3");
  assert.match(text.stdout, /nearest to "License" by cosine similarity:\n {2}-?\d\.\d{4} {2}"/);
});

Deno.test("a word of several tokens is reported with its pieces and embedded as their mean", async () => {
  const r = await json("similar", "Thereinafter");
  assert.equal(r.word.mean, true);
  assert.ok(r.word.pieces.length > 1);
  const text = await run("--checkpoint", dir, "similar", "Thereinafter");
  assert.match(
    text.stdout,
    /note: "Thereinafter" is \d+ tokens \[.*\]; using the mean of their vectors/,
  );
});

Deno.test("analogy leaves out every token of its inputs", async () => {
  const r = await json("analogy", "License", "Program", "software", "--k", "10");
  const inputs = new Set(r.inputs.flatMap((w: { ids: number[] }) => w.ids));
  assert.equal(r.neighbours.length, 10);
  for (const n of r.neighbours) assert.ok(!inputs.has(n.id), n.token);
});

Deno.test("compare prints a symmetric matrix with a unit diagonal and draws it with the words", async () => {
  const out = `${dir}/compare.svg`;
  const r = await json("compare", "the", "License", "software", "Thereinafter", "--out", out);
  r.matrix.forEach((row: number[], i: number) => {
    assert.equal(row[i], 1);
    row.forEach((v, j) => assert.ok(Math.abs(v - r.matrix[j][i]) < 1e-12));
  });
  const texts = svgTexts(await Deno.readTextFile(out));
  for (const w of ["the", "License", "software"]) {
    const label = r.words.find((x: { word: string }) => x.word === w).mean
      ? new RegExp(`^${w} \\(mean of \\d+\\)$`)
      : new RegExp(`^${w}$`);
    assert.ok(texts.some((t) => label.test(t)), w);
  }
  assert.ok(texts.some((t) => /^Thereinafter \(mean of \d+\)$/.test(t)), texts.join("|"));
});

Deno.test("plot writes an SVG with every word labelled and axes naming the components", async () => {
  const out = `${dir}/plot.svg`;
  const words = ["the", "and", "of", "License", "software", "Thereinafter"];
  const r = await json("plot", "--out", out, ...words);
  assert.equal(r.image, out);
  const texts = svgTexts(await Deno.readTextFile(out));
  for (const w of words) assert.ok(texts.includes(w), `label ${w}`);
  assert.ok(texts.some((t) => /^PC 1 \(\d+\.\d% of variance\)$/.test(t)));
  assert.ok(texts.some((t) => /^PC 2 \(/.test(t)));
  assert.ok(texts.includes("mean of its tokens"), "legend marks the multi-token word");
});

Deno.test("plot --method tsne labels every word and names t-SNE on its axes", async () => {
  const out = `${dir}/tsne.svg`;
  const words = ["the", "and", "of", "a", "License", "software", "Program"];
  await json("plot", "--method", "tsne", "--perplexity", "2", "--out", out, ...words);
  const texts = svgTexts(await Deno.readTextFile(out));
  for (const w of words) assert.ok(texts.includes(w), `label ${w}`);
  assert.ok(
    texts.some((t) => /^t-SNE 1 \(perplexity 2\.0, KL \d+\.\d+\)$/.test(t)),
    texts.join("|"),
  );
});

Deno.test("plot and positions write real PNG files when asked for .png", async () => {
  const plot = `${dir}/plot.png`, pos = `${dir}/pos.png`;
  await json("plot", "--out", plot, "the", "and", "of");
  await json("positions", "--out", pos);
  for (const path of [plot, pos, `${dir}/pos_similarity.png`]) {
    const bytes = await Deno.readFile(path);
    assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], path);
    const view = new DataView(bytes.buffer);
    assert.ok(view.getUint32(16) >= 700 && view.getUint32(20) >= 400, "width and height");
  }
});

Deno.test("positions draws the table and the position-to-position similarity, labelled", async () => {
  const out = `${dir}/positions.svg`;
  const r = await json("positions", "--out", out);
  assert.deepEqual([r.kind, r.positions, r.width], ["learned", 32, 64]);
  const table = svgTexts(await Deno.readTextFile(out));
  assert.ok(table.includes("Positional embeddings (learned, 32 × 64)"));
  assert.ok(table.includes("embedding dimension") && table.includes("position"));
  const sim = svgTexts(await Deno.readTextFile(r.similarity));
  assert.ok(sim.includes("position i") && sim.includes("position j"));
});

Deno.test("bad input exits 2 with a message naming the flag, command or file", async () => {
  const cases: [string[], RegExp][] = [
    [["similar", "x"], /--checkpoint: is required/],
    [["--checkpoint", dir, "analogy", "a", "b"], /analogy: expected three words A B C, got 2/],
    [["--checkpoint", dir, "plot", "a", "b", "c"], /--out: is required for plot/],
    [["--checkpoint", dir, "plot", "--out", `${dir}/x.jpg`, "a", "b", "c"], /--out: .*"\S+x\.jpg"/],
    [["--checkpoint", dir, "similar", "x", "--k", "two"], /--k: expected a non-negative integer/],
    [["--checkpoint", dir, "frobnicate"], /command: expected one of similar, .*"frobnicate"/],
    [
      ["--checkpoint", dir, "plot", "--method", "umap", "--out", "x.svg", "a", "b", "c"],
      /--method:/,
    ],
    [
      [
        "--checkpoint",
        dir,
        "plot",
        "--method",
        "tsne",
        "--perplexity",
        "5",
        "--out",
        "x.svg",
        "a",
        "b",
        "c",
        "d",
      ],
      /--perplexity: expected 1 to 1\.0 for 4 words, got 5/,
    ],
    [["--checkpoint", `${dir}/nope`, "similar", "x"], /nope/],
  ];
  for (const [args, message] of cases) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
