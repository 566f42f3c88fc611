/**
 * `deno task bench ingest [--pages 200] [--files 4]`: PDF text extraction in pages/s with pdf.js
 * (our path) against Debian's `pdftotext` (poppler) on the same generated files when it is
 * installed, OCR seconds per image, and end-to-end ingest throughput. Prints one JSON object.
 */
import { parseArgs } from "node:util";
import { round } from "./_stats.ts";
import { extractPdf, OcrPool, runIngest } from "../ingest/mod.ts";
import { silentLogger } from "../model/log.ts";
import { realisticText } from "./tokenizer.ts";
import { makePdf, makeTextPng } from "../tests/ingest/_fixtures.ts";

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      pages: { type: "string", default: "200" },
      files: { type: "string", default: "4" },
    },
  });
  const pagesPerFile = Number(values.pages), nFiles = Number(values.files);
  const dir = await Deno.makeTempDir({ prefix: "bench_ingest_" });
  try {
    // PDFs of realistic prose: 45 lines of ~90 characters per page.
    const lines = realisticText(pagesPerFile * nFiles * 45 * 90, 7).join(" ").match(
      /.{1,90}(\s|$)/g,
    )!;
    const paths: string[] = [];
    for (let f = 0; f < nFiles; f++) {
      const pages = Array.from(
        { length: pagesPerFile },
        (_, p) =>
          lines.slice((f * pagesPerFile + p) * 45, (f * pagesPerFile + p + 1) * 45).map(toLatin1),
      );
      paths.push(`${dir}/doc${f}.pdf`);
      await Deno.writeFile(paths[f], makePdf(pages));
    }
    const totalPages = pagesPerFile * nFiles;

    let t = performance.now();
    let chars = 0;
    for (const p of paths) chars += (await extractPdf(await Deno.readFile(p))).text.length;
    const pdfjsSeconds = (performance.now() - t) / 1000;

    let pdftotext: Record<string, number> | string =
      "not installed (apt-get install poppler-utils)";
    if (await has("pdftotext")) {
      t = performance.now();
      let popplerChars = 0;
      for (const p of paths) {
        const out = await new Deno.Command("pdftotext", { args: ["-q", p, "-"], stdout: "piped" })
          .output();
        popplerChars += new TextDecoder().decode(out.stdout).length;
      }
      const s = (performance.now() - t) / 1000;
      pdftotext = {
        pagesPerSecond: round(totalPages / s, 3),
        seconds: round(s, 3),
        characters: popplerChars,
      };
    }

    const ocr = new OcrPool(1);
    const png = makeTextPng(["THE QUICK BROWN FOX JUMPS", "OVER THE LAZY DOG 12345."]);
    t = performance.now();
    await ocr.recognize(png);
    const ocrFirst = (performance.now() - t) / 1000;
    t = performance.now();
    for (let i = 0; i < 3; i++) await ocr.recognize(png);
    const ocrWarm = (performance.now() - t) / 3000;
    await ocr.close();

    // End to end over text files and the PDFs: walk, extract, clean, train BPE, encode, write shards.
    await Deno.mkdir(`${dir}/corpus`);
    const docs = realisticText(5 * 1024 * 1024, 9);
    for (let i = 0; i < docs.length; i++) {
      await Deno.writeTextFile(`${dir}/corpus/d${i}.txt`, docs[i]);
    }
    const inputBytes = docs.reduce((n, d) => n + d.length, 0);
    t = performance.now();
    const result = await runIngest(
      { out: `${dir}/out`, inputs: [`${dir}/corpus`], vocabSize: 8192 },
      { log: silentLogger, progressWrite: () => {} },
    );
    const e2e = (performance.now() - t) / 1000;

    console.log(JSON.stringify({
      bench: "ingest",
      pdf: {
        files: nFiles,
        pages: totalPages,
        pdfjs: {
          pagesPerSecond: round(totalPages / pdfjsSeconds, 3),
          seconds: round(pdfjsSeconds, 3),
          characters: chars,
        },
        pdftotext,
      },
      ocr: { firstImageSeconds: round(ocrFirst, 3), warmImageSeconds: round(ocrWarm, 3) },
      endToEnd: {
        files: docs.length,
        inputMB: round(inputBytes / 1e6, 3),
        seconds: round(e2e, 3),
        mbPerSecond: round(inputBytes / 1e6 / e2e, 3),
        tokens: result.manifest.totals.train + result.manifest.totals.val,
      },
      cpus: navigator.hardwareConcurrency,
    }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function toLatin1(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

async function has(cmd: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("which", { args: [cmd], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}
