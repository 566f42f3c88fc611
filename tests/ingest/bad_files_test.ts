/**
 * Files that used to stop the whole ingest (exit 1, no manifest, the good files lost) because a
 * library failed where nothing caught it (pdf.js, which read PDFs then, rejecting a promise nobody
 * awaited; tesseract.js throwing a job's error on the main thread), and damaged files that lose no
 * more than the damage. Each runs the real CLI over the bad file and a good one.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { readManifest } from "../../model/data/mod.ts";
import { concatBytes } from "../../model/bytes.ts";
import { denoOutput } from "../../model/subprocess.ts";
import { makePdf, pngChunk } from "./_fixtures.ts";
import { PDF_PAGES } from "./_corpus.ts";

async function ingestWith(name: string, bytes: Uint8Array) {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/in`);
  await Deno.writeFile(`${dir}/in/${name}`, bytes);
  await Deno.writeTextFile(`${dir}/in/good.txt`, "A good file next to a bad one must survive.\n");
  const out = await denoOutput("ingest/main.ts", [
    "--out",
    `${dir}/out`,
    "--workers",
    "1",
    `${dir}/in`,
  ]);
  try {
    assert.equal(out.code, 0, out.stderr);
    const manifest = await readManifest(`${dir}/out`);
    assert.equal(manifest.files.find((f) => f.path === "good.txt")?.status, "ok");
    return manifest.files.find((f) => f.path === name)!;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a PDF whose middle third is 0xFF keeps the text before the damage and names the pages lost", async () => {
  const pdf = makePdf(PDF_PAGES);
  pdf.fill(0xff, Math.floor(pdf.length / 3), Math.floor((2 * pdf.length) / 3));
  const bad = await ingestWith("overwritten.pdf", pdf);
  assert.equal(bad.kind, "pdf");
  assert.equal(bad.status, "ok", "PDFium rebuilds the cross-reference table");
  assert.equal(bad.pages, 3);
  assert.equal(bad.reason, "2 page(s) could not be parsed");
  assert.equal(bad.characters, PDF_PAGES[0][0].length, "page 1's line before the 0xFF bytes");
});

Deno.test("a PDF that is 0xFF after its header is skipped with PDFium's reason, not fatal", async () => {
  const pdf = makePdf(PDF_PAGES).fill(0xff, "%PDF-1.4\n".length);
  const bad = await ingestWith("wiped.pdf", pdf);
  assert.equal(bad.kind, "pdf");
  assert.equal(bad.status, "skipped");
  assert.equal(bad.reason, "truncated PDF: not a PDF, or damaged beyond repair");
});

Deno.test("a PNG with valid CRCs but too little image data is skipped with the OCR error", async () => {
  // 64×64 grayscale, but the compressed data holds only three rows.
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 64);
  new DataView(ihdr.buffer).setUint32(4, 64);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const rows = new Uint8Array(3 * 65).fill(255).map((v, i) => (i % 65 === 0 ? 0 : v));
  const png = concatBytes([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(rows))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
  const bad = await ingestWith("short.png", png);
  assert.equal(bad.kind, "image");
  assert.equal(bad.status, "skipped");
  assert.match(bad.reason!, /^unreadable PNG: Error attempting to read image/);
});
