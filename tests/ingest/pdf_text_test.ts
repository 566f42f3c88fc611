/**
 * The TypeScript text-layer reader (`ingest/pdf_text/`) against PDFium on the same pages: files
 * written here with what real producers use (compressed streams, a standard font with a
 * /Differences ligature, kerned `TJ` arrays whose gaps are word spaces, a hyphen at a line's end,
 * text drawn twice for bold, a composite font with a ToUnicode CMap inside a scaled form XObject)
 * read the same either way, and what it does not take (a Type 3 font, an encrypted file) goes to
 * PDFium.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { closePdf, openPdf, readPages } from "../../ingest/extract_pdf.ts";
import { openPdfText } from "../../ingest/pdf_text/mod.ts";
import { makePdf } from "./_fixtures.ts";

/** A PDF of `objects` (numbered from 1; object 1 the catalog), streams deflated. */
function pdfOf(objects: (string | { dict: string; stream: string; a85?: boolean })[]): Uint8Array {
  const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const parts: Uint8Array[] = [latin1("%PDF-1.5\n")];
  let at = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(at);
    let body: Uint8Array[];
    if (typeof o === "string") body = [latin1(`${i + 1} 0 obj\n${o}\nendobj\n`)];
    else {
      const deflated = new Uint8Array(deflateSync(latin1(o.stream)));
      const data = o.a85 ? latin1(ascii85(deflated)) : deflated;
      const filter = o.a85 ? "[/ASCII85Decode /FlateDecode]" : "/FlateDecode";
      body = [
        latin1(
          `${i + 1} 0 obj\n<< ${o.dict} /Filter ${filter} /Length ${data.length} >>\nstream\n`,
        ),
        data,
        latin1("\nendstream\nendobj\n"),
      ];
    }
    for (const b of body) (parts.push(b), at += b.length);
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) xref += `${String(o).padStart(10, "0")} 00000 n \n`;
  xref += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`;
  parts.push(latin1(xref));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) (out.set(p, k), k += p.length);
  return out;
}

/** ASCII base-85, as PDF's filter reads it: groups of five, `z` for four zeros, `~>` at the end. */
function ascii85(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    const n = Math.min(4, bytes.length - i);
    let v = 0;
    for (let k = 0; k < 4; k++) v = v * 256 + (k < n ? bytes[i + k] : 0);
    if (v === 0 && n === 4) {
      out += "z";
      continue;
    }
    const digits: string[] = [];
    for (let k = 0; k < 5; k++, v = Math.floor(v / 85)) {
      digits.unshift(String.fromCharCode(33 + v % 85));
    }
    out += digits.slice(0, n + 1).join("");
  }
  return out + "~>";
}

const hex = (s: string) =>
  "<" + [...s].map((c) => c.charCodeAt(0).toString(16).padStart(4, "0")).join("") + ">";

/** Three pages: a standard font, a composite font in a form, and a Type 3 font. */
function producerLikePdf(): Uint8Array {
  const body = [
    "BT /F1 11 Tf 13 TL 72 720 Td",
    "[(Kerned)-333(words)-333(come)-333(apart)-333(as)-333(a)-333(typesetter)-333(sets)-333(them.)] TJ T*",
    "(A \\001ne ligature and an exam-) Tj T*",
    "(ple split over two lines, then one more line of prose.) Tj",
    "ET",
    // Bold the way some producers fake it: the same string again, a hair to the right.
    "BT /F1 11 Tf 72 680 Td (Heavy heading) Tj ET BT /F1 11 Tf 72.3 680 Td (Heavy heading) Tj ET",
  ].join("\n");
  const cid = "Composite fonts map two-byte codes through ToUnicode";
  const form = `BT /C1 10 Tf 0 0 Td ${hex(cid)} Tj 0 -12 Td ${
    hex("and the form moves them.")
  } Tj ET`;
  const type3 = "BT /T3 12 Tf 72 700 Td (abcabcabcabcabcabcabcabcabcabcabcabc) Tj ET";
  const cmap = [
    "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
    "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    "1 beginbfrange <0020> <007E> <0020> endbfrange",
    "endcmap CMapName currentdict /CMap defineresource pop end end",
  ].join("\n");
  return pdfOf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R 5 0 R 7 0 R] /Count 3 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 9 0 R >> >> /Contents 4 0 R >>",
    { dict: "", stream: body, a85: true },
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X1 6 0 R >> >> /Contents 11 0 R >>",
    {
      dict: "/Type /XObject /Subtype /Form /BBox [0 0 500 100] /Matrix [1.2 0 0 1.2 0 0] " +
        "/Resources << /Font << /C1 10 0 R >> >>",
      stream: form,
    },
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /T3 13 0 R >> >> /Contents 8 0 R >>",
    { dict: "", stream: type3 },
    "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /BaseEncoding /WinAnsiEncoding /Differences [1 /fi] >> >>",
    "<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H /DescendantFonts [12 0 R] /ToUnicode 14 0 R >>",
    { dict: "", stream: "q 1 0 0 1 60 600 cm /X1 Do Q" },
    "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Sans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 /W [32 [250] 65 90 600] >>",
    "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 750 750] /FontMatrix [0.001 0 0 0.001 0 0] " +
    "/CharProcs << /a 15 0 R /b 15 0 R /c 15 0 R >> /Encoding << /Differences [97 /a /b /c] >> " +
    "/FirstChar 97 /LastChar 99 /Widths [600 600 600] /Resources << >> >>",
    { dict: "", stream: cmap },
    { dict: "", stream: "600 0 0 0 750 750 d1 0 0 750 750 re f" },
  ]);
}

async function pagesBy(data: Uint8Array, pdfiumOnly: boolean) {
  const pdf = await openPdf(data, { pdfiumOnly });
  try {
    return await readPages(pdf, 1, pdf.pages);
  } finally {
    await closePdf(pdf);
  }
}

Deno.test("pages written as real producers write them read the same as PDFium reads them", async () => {
  const data = producerLikePdf();
  const reader = openPdfText(data);
  assert.ok(reader, "the reader takes the file");
  assert.equal(reader.pages, 3);
  assert.ok(reader.pageRuns(0), "page 1 is read without PDFium");
  assert.ok(reader.pageRuns(1), "page 2 is read without PDFium");
  assert.equal(reader.pageRuns(2), undefined, "a Type 3 font goes to PDFium");

  const ours = await pagesBy(data, false), pdfium = await pagesBy(data, true);
  assert.deepEqual(ours, pdfium);
  const [first, second] = ours.map((p) => "text" in p ? p.text : "");
  assert.match(first, /Kerned words come apart as a typesetter sets them\./);
  // PDFium marks a hyphen that ends a line inside a word U+0002, which cleaning removes.
  assert.ok(first.includes("A fine ligature and an exam\u0002ple split"), first);
  assert.equal(first.match(/Heavy heading/g)?.length, 1, "text drawn twice counts once");
  assert.match(second, /Composite fonts map two-byte codes through ToUnicode\nand the form/);
});

Deno.test("the fixtures' pages, in columns or not, read the same as PDFium reads them", async () => {
  const prose = Array.from(
    { length: 40 },
    (_, i) => `Line ${i} of a page of prose, (with) \\ marks.`,
  );
  const column = (x: number, words: string) =>
    Array.from({ length: 12 }, (_, i) => ({ x, y: 700 - 14 * i, text: `${words} ${i}` }));
  const data = makePdf([
    prose,
    { runs: [...column(72, "left column line"), ...column(320, "right column line")] },
  ]);
  assert.ok(openPdfText(data)?.pageRuns(1), "the fixture's pages are read without PDFium");
  assert.deepEqual(await pagesBy(data, false), await pagesBy(data, true));
});

Deno.test("files the reader does not take are left to PDFium whole", () => {
  assert.equal(openPdfText(makePdf([["secret"]], { passwordProtected: true })), undefined);
  const truncated = makePdf([["cut short"]]).subarray(0, 200);
  assert.equal(openPdfText(truncated), undefined);
  assert.equal(openPdfText(new TextEncoder().encode("not a PDF at all")), undefined);
});

Deno.test("an embedded Type 1 font without /Encoding reads by the encoding built into its program", async () => {
  const program = [
    "%!PS-AdobeFont-1.0: Greeky 001.000",
    "/FontName /Greeky def",
    "/Encoding 256 array",
    "0 1 255 {1 index exch /.notdef put} for",
    "dup 65 /alpha put",
    "dup 66 /beta put",
    "dup 67 /gamma put",
    "dup 32 /space put",
    "readonly def",
    "currentfile eexec",
  ].join("\n") + "\n";
  const line = "(ABC CBA BAC ABC CAB ACB BCA ABC CBA BAC ABC CAB) Tj";
  const data = pdfOf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /G 5 0 R >> >> /Contents 4 0 R >>",
    { dict: "", stream: `BT /G 12 Tf 72 700 Td ${line} ET` },
    "<< /Type /Font /Subtype /Type1 /BaseFont /Greeky /FirstChar 32 /LastChar 67 " +
    `/Widths [250 ${"0 ".repeat(32)}500 500 500] /FontDescriptor 6 0 R >>`,
    "<< /Type /FontDescriptor /FontName /Greeky /Flags 4 /FontBBox [0 -200 600 800] " +
    "/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile 7 0 R >>",
    { dict: `/Length1 ${program.length} /Length2 0 /Length3 0`, stream: program },
  ]);
  // Only the program's clear-text part is real here: PDFium, which loads the whole program, cannot,
  // and shows the codes themselves ("ABC"). On the real pdfTeX files this was written for, with
  // whole programs, both read the same.
  const runs = openPdfText(data)?.pageRuns(0);
  assert.ok(runs, "read without PDFium");
  const [page] = await pagesBy(data, false);
  assert.deepEqual(page, { text: "αβγ γβα βαγ αβγ γαβ αγβ βγα αβγ γβα βαγ αβγ γαβ" });
});
