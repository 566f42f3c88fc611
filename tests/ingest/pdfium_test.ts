/**
 * PDFium on its own runtime (`ingest/pdfium_runtime.ts`): an instantiation that fails fails the
 * file (or, in a file the TypeScript reader takes, the pages left to PDFium) with the reason and is
 * not waited on forever (a module that imports what the runtime does not provide stands in for a
 * broken install), and a `longjmp` out of PDFium's C libraries comes back through the runtime's
 * `invoke_*` calls.
 */
import assert from "node:assert/strict";
import { closePdf, openPdf, readPages, renderPage } from "../../ingest/extract_pdf.ts";
import { compilePdfium, pdfiumModuleFrom } from "../../ingest/pdfium.ts";
import { makePdf } from "./_fixtures.ts";

/** `(module (import "env" "nope" (func)))`. */
const UNLINKABLE = Uint8Array.of(
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
  ...[0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x6e, 0x6f, 0x70, 0x65, 0x00, 0x00],
);

Deno.test("a PDFium module that cannot be instantiated fails the PDF instead of hanging", async () => {
  pdfiumModuleFrom(() => Promise.resolve(new WebAssembly.Module(UNLINKABLE)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A guard against a hang only: the failure comes as soon as instantiation fails.
  const hung = new Promise<string>((resolve) => timer = setTimeout(() => resolve("hung"), 120_000));
  try {
    const outcome = await Promise.race([
      openPdf(makePdf([["hello"]]), { pdfiumOnly: true }).then(
        () => "opened",
        (err: Error) => err.name,
      ),
      hung,
    ]);
    assert.equal(outcome, "LinkError");
    // A file the TypeScript reader takes keeps the pages it read; only a page left to PDFium (too
    // few letters for the reader to tell it from a scan) fails.
    const lines = Array.from({ length: 4 }, (_, i) => `Line ${i} of a page the reader takes.`);
    const pdf = await openPdf(makePdf([lines, ["short"]]));
    try {
      const [first, second] = await readPages(pdf, 1, 2);
      assert.deepEqual(first, { text: lines.join("\n") });
      assert.match("failed" in second ? second.failed : "", /WebAssembly\.instantiate/);
    } finally {
      await closePdf(pdf);
    }
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("a damaged JPEG inside a PDF is survived: libjpeg's longjmp comes back, pages go on", async () => {
  pdfiumModuleFrom(compilePdfium); // the real one, whichever test ran before
  const pixels = new Uint8Array(64 * 64).fill(0);
  const pdf = makePdf([{ image: { width: 64, height: 64, pixels } }, ["after the picture"]]);
  // The image's deflated bytes, declared a JPEG: libjpeg fails on them and longjmps out.
  const text = new TextDecoder("latin1").decode(pdf)
    .replace("/Filter /FlateDecode", "/Filter /DCTDecode  ");
  const doc = await openPdf(Uint8Array.from(text, (c) => c.charCodeAt(0)));
  try {
    assert.deepEqual(await readPages(doc, 1, 2), [{ ocr: true }, { text: "after the picture" }]);
    const pgm = await renderPage(doc, 1);
    const header = "P5\n2550 3300\n255\n".length;
    assert.ok(pgm.subarray(header).every((v) => v === 255), "nothing drawn for the bad image");
  } finally {
    await closePdf(doc);
  }
});
