/**
 * PDFium's instantiation failing is reported, not waited on forever: Emscripten's instantiateWasm
 * hook has no failure callback, so ingest races one beside it. A module that imports what PDFium's
 * runtime does not provide stands in for a broken install.
 */
import assert from "node:assert/strict";
import { openPdf } from "../../ingest/extract_pdf.ts";
import { sharePdfiumModule } from "../../ingest/pdfium.ts";
import { makePdf } from "./_fixtures.ts";

/** `(module (import "env" "nope" (func)))`. */
const UNLINKABLE = Uint8Array.of(
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],
  ...[0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x6e, 0x6f, 0x70, 0x65, 0x00, 0x00],
);

Deno.test("a PDFium module that cannot be instantiated fails the PDF instead of hanging", async () => {
  sharePdfiumModule(new WebAssembly.Module(UNLINKABLE));
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A guard against a hang only: the failure comes as soon as instantiation fails.
  const hung = new Promise<string>((resolve) => timer = setTimeout(() => resolve("hung"), 120_000));
  try {
    const outcome = await Promise.race([
      openPdf(makePdf([["hello"]])).then(() => "opened", (err: Error) => err.name),
      hung,
    ]);
    assert.equal(outcome, "LinkError");
  } finally {
    clearTimeout(timer);
  }
});
