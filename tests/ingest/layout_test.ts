/**
 * Scanned PDFs and multi-column pages through the real ingest: pages rendered from known text in a
 * real font (tilted and noisy where a scanner would make them so), two- and three-column layouts as
 * images and as PDF text layers listed row by row across the columns, a mixed PDF, and single-column
 * text that must come out exactly as it did before reading order existed.
 */
import assert from "node:assert/strict";
import { createWorker, OEM } from "tesseract.js";
import { cleanText, type IngestResult, runIngest } from "../../ingest/mod.ts";
import { ENG_LANG_PATH } from "../../ingest/ocr_pool.ts";
import { silentLogger } from "../../model/log.ts";
import { charAccuracy, encodePng, makePdf } from "./_fixtures.ts";
import { type ColumnsLayout, columnsPlan, drawLayout, layoutText, scannedPage } from "./_pages.ts";

const TWO_COLUMNS: ColumnsLayout = {
  columns: [
    [
      "Reading order matters for any",
      "model trained on scanned pages.",
      "A reader that crosses the gap",
      "between two columns joins half",
      "of one sentence to half of the",
      "next and teaches the model noise.",
    ],
    [
      "The second column starts here",
      "and continues down the page in",
      "the same way as the first one.",
      "Its words belong together and",
      "must come out after the whole",
      "left column has been read.",
    ],
  ],
};
const THREE_COLUMNS: ColumnsLayout = {
  heading: "Quick reference card for the command line",
  columns: [
    ["Files are walked in", "code point order and", "links are followed", "unless they loop"],
    ["Text is cleaned with", "Unicode NFC and line", "endings become plain", "newlines at once."],
    ["Shards are written", "as soon as they fill", "so memory stays flat", "at any corpus size."],
  ],
};
// The PDF layouts differ from the image ones by a line, or deduplication would keep one of each.
const TWO_PDF = { columns: TWO_COLUMNS.columns.map((c, i) => [...c, `PDF column ${i + 1} ends.`]) };
const THREE_PDF = { ...THREE_COLUMNS, columns: THREE_COLUMNS.columns.map((c) => [...c, "PDF"]) };
const SCAN_PAGES: ColumnsLayout[] = [
  {
    columns: [[
      "Optical character recognition turns the picture of a page",
      "back into text. Scanned documents from an office or a",
      "library often carry no text layer at all, so a pipeline",
      "that only reads text layers silently loses every word on",
      "them. Rendering each page and reading it with tesseract",
      "recovers almost all of the text, even when the scan is a",
      "little tilted and speckled with noise from the glass.",
    ]],
  },
  {
    columns: [[
      "The second scanned page continues the same document and",
      "ends it with a short closing paragraph of plain prose.",
    ]],
  },
];
const MIXED_SCAN: ColumnsLayout = {
  columns: [[
    "This page of the report was scanned on its own,",
    "so it has no text layer and needs recognition.",
  ]],
};
const MIXED_TEXT = [["A page with a text layer comes first.", "PDFium reads it directly."], [
  "The last page has a text layer again.",
]];
const SINGLE: ColumnsLayout = {
  columns: [["One column of text reads the same", "as tesseract has always read it."]],
};

const root = await Deno.makeTempDir({ prefix: "layout_test_" });
let run: Promise<IngestResult> | undefined;
function ingestOnce(): Promise<IngestResult> {
  run ??= (async () => {
    const png = (layout: ColumnsLayout) => {
      const { width, height, pixels } = drawLayout(layout);
      return encodePng(width, height, pixels);
    };
    await Deno.mkdir(`${root}/in`);
    await Deno.writeFile(`${root}/in/two.png`, png(TWO_COLUMNS));
    await Deno.writeFile(`${root}/in/three.png`, png(THREE_COLUMNS));
    await Deno.writeFile(`${root}/in/single.png`, png(SINGLE));
    await Deno.writeFile(`${root}/in/two.pdf`, makePdf([columnsPlan(TWO_PDF)]));
    await Deno.writeFile(`${root}/in/three.pdf`, makePdf([columnsPlan(THREE_PDF)]));
    const scans = SCAN_PAGES.map((p, i) =>
      scannedPage(drawLayout(p, { tiltDegrees: i ? -0.8 : 1.2, noise: 25, seed: i + 1 }))
    );
    await Deno.writeFile(`${root}/in/scan.pdf`, makePdf(scans));
    // The scanned page carries a stray stamp as its only text layer: still a scan.
    const stamped = scannedPage(drawLayout(MIXED_SCAN, { tiltDegrees: 0.5, noise: 15, seed: 3 }));
    stamped.runs = [{ x: 12, y: 6, text: "Scan 0042", size: 5 }];
    await Deno.writeFile(`${root}/in/mixed.pdf`, makePdf([MIXED_TEXT[0], stamped, MIXED_TEXT[1]]));
    return runIngest(
      { out: `${root}/out`, inputs: [`${root}/in`], dumpText: `${root}/text`, vocabSize: 300 },
      { log: silentLogger, progressWrite: () => {} },
    );
  })();
  return run;
}

async function extracted(name: string): Promise<string> {
  const result = await ingestOnce();
  const f = result.manifest.files.find((f) => f.path === name);
  assert.equal(f?.status, "ok", `${name}: ${f?.reason}`);
  return await Deno.readTextFile(`${root}/text/${name}.txt`);
}

function assertClose(name: string, expected: string, got: string, min: number): void {
  const accuracy = charAccuracy(expected, got);
  console.log(`${name}: character accuracy ${(accuracy * 100).toFixed(1)}%`);
  assert.ok(accuracy >= min, `${name}: ${accuracy} < ${min}: ${JSON.stringify(got)}`);
}

Deno.test("an image-only PDF, tilted and noisy, is OCRed page by page and the manifest says so", async () => {
  const text = await extracted("scan.pdf");
  assertClose("scan.pdf", SCAN_PAGES.map(layoutText).join("\n"), text, 0.98);
  const f = (await ingestOnce()).manifest.files.find((f) => f.path === "scan.pdf")!;
  assert.equal(f.pages, 2);
  assert.equal(f.ocrPages, "1-2");
});

Deno.test("two- and three-column images are read column by column", async () => {
  assertClose("two.png", layoutText(TWO_COLUMNS), await extracted("two.png"), 0.95);
  assertClose("three.png", layoutText(THREE_COLUMNS), await extracted("three.png"), 0.95);
});

Deno.test("two- and three-column PDF text layers are read column by column, not across", async () => {
  assertClose("two.pdf", layoutText(TWO_PDF), await extracted("two.pdf"), 0.95);
  assertClose("three.pdf", layoutText(THREE_PDF), await extracted("three.pdf"), 0.95);
  const f = (await ingestOnce()).manifest.files.find((f) => f.path === "two.pdf")!;
  assert.equal(f.ocrPages, undefined, "a text layer is never OCRed");
});

Deno.test("a mixed PDF gets its text layer pages and its scanned page, and names the OCRed page", async () => {
  const expected = [MIXED_TEXT[0].join("\n"), layoutText(MIXED_SCAN), "Scan 0042", MIXED_TEXT[1]];
  assertClose("mixed.pdf", expected.join("\n"), await extracted("mixed.pdf"), 0.95);
  const f = (await ingestOnce()).manifest.files.find((f) => f.path === "mixed.pdf")!;
  assert.equal(f.pages, 3);
  assert.equal(f.ocrPages, "2");
});

Deno.test("single-column images come out as before: as plain tesseract reads them", async () => {
  // Plain tesseract.js, as ingest used it before reading order: the same text for one column, and
  // lines read across both columns of the two-column page (which is why reading order exists).
  const plain = await createWorker("eng", OEM.LSTM_ONLY, {
    langPath: ENG_LANG_PATH,
    cacheMethod: "none",
    gzip: true,
  });
  try {
    const single = (await plain.recognize(await Deno.readFile(`${root}/in/single.png`))).data.text;
    assert.equal(await extracted("single.png"), cleanText(single, { code: false }) + "\n");
    const across = (await plain.recognize(await Deno.readFile(`${root}/in/two.png`))).data.text;
    assert.ok(charAccuracy(layoutText(TWO_COLUMNS), across) < 0.8, across);
  } finally {
    await plain.terminate();
  }
});

Deno.test({
  name: "cleanup of the layout corpus",
  fn: async () => {
    await run?.catch(() => {});
    await Deno.remove(root, { recursive: true });
  },
});
