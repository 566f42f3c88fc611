/**
 * `deno task bench ingest [--files 4] [--pages 200] [--runs 3] [--scans 6] [--mb 50,500]
 * [--workers N]`
 *
 * - pdf: text-layer pages/s of ingest's extract stage (PDFium on worker threads, one per core)
 *   against Debian's `pdftotext` on the same generated PDFs, with as many processes as workers,
 *   each PDF split into page ranges among them; `--runs` times each, the two taking turns, for the
 *   median and each run's ratio.
 * - ocr: pages/s of scanned (image-only) PDFs through ingest (PDFium renders, tesseract.js reads,
 *   one recogniser per core) against `pdftoppm` + the `tesseract` CLI (`OMP_THREAD_LIMIT=1`, one
 *   process per core) on the same PDFs, with the character accuracy of both.
 * - memory: peak RSS of the ingest CLI (GNU time's maximum resident set size) on generated text at
 *   each size in `--mb`, and on the PDFs above.
 *
 * Prints one JSON object; never asserts on time.
 */
import { parseArgs } from "node:util";
import { median, round } from "./_stats.ts";
import { realisticText } from "./tokenizer.ts";
import { runIngest } from "../ingest/mod.ts";
import { InputError } from "../model/errors.ts";
import { silentLogger } from "../model/log.ts";
import { charAccuracy, makePdf } from "../tests/ingest/_fixtures.ts";
import { drawLayout, scannedPage } from "../tests/ingest/_pages.ts";

const INGEST = new URL("../ingest/main.ts", import.meta.url).pathname;
const INGEST_RUN = new URL("./_ingest_run.ts", import.meta.url).pathname;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      files: { type: "string", default: "4" },
      pages: { type: "string", default: "200" },
      runs: { type: "string", default: "3" },
      scans: { type: "string", default: "6" },
      mb: { type: "string", default: "50,500" },
      workers: { type: "string", default: String(navigator.hardwareConcurrency || 1) },
    },
  });
  const workers = Number(values.workers);
  if (!(Number.isInteger(Number(values.runs)) && Number(values.runs) >= 1)) {
    throw new InputError("--runs", "give a whole number of runs, 1 or more");
  }
  if (!(Number(values.scans) >= 2)) {
    throw new InputError("--scans", "give 2 or more: the scanned pages are split over two PDFs");
  }
  const dir = await Deno.makeTempDir({ prefix: "bench_ingest_" });
  try {
    const pdf = await pdfText(
      `${dir}/pdf`,
      Number(values.files),
      Number(values.pages),
      workers,
      Number(values.runs),
    );
    const ocr = await scannedPdfs(`${dir}/scans`, Number(values.scans), workers);
    const memory = [];
    for (const mb of values.mb.split(",").map(Number).filter((mb) => mb > 0)) {
      await generatedCorpus(`${dir}/text${mb}`, mb);
      memory.push({ corpus: `${mb} MB generated text`, ...await peakRss(`${dir}/text${mb}`, dir) });
      await Deno.remove(`${dir}/text${mb}`, { recursive: true });
    }
    memory.push({
      corpus: `the PDFs above (${pdf.pages} text pages, ${ocr.pages} scanned)`,
      ...await peakRss([`${dir}/pdf`, `${dir}/scans`], dir),
    });
    console.log(JSON.stringify({
      bench: "ingest",
      workers,
      pdf,
      ocr,
      memory,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
    }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** PDFs of realistic prose (45 lines of about 90 characters a page), ours against pdftotext. */
async function pdfText(
  dir: string,
  files: number,
  pagesPerFile: number,
  workers: number,
  runs: number,
) {
  await Deno.mkdir(dir, { recursive: true });
  const lines = realisticText(files * pagesPerFile * 45 * 90, 7).join(" ").match(/.{1,90}(\s|$)/g)!;
  for (let f = 0; f < files; f++) {
    const pages = Array.from({ length: pagesPerFile }, (_, p) => {
      const at = (f * pagesPerFile + p) * 45;
      return lines.slice(at, at + 45).map((l) => l.replace(/[^\x20-\x7e]/g, "?"));
    });
    await Deno.writeFile(`${dir}/doc${f}.pdf`, makePdf(pages));
  }
  const pages = files * pagesPerFile;
  const jobs: string[][] = [];
  for (let f = 0; f < files; f++) {
    for (let w = 0; w < workers; w++) {
      const first = Math.floor((w * pagesPerFile) / workers) + 1;
      const last = Math.floor(((w + 1) * pagesPerFile) / workers);
      if (first <= last) {
        jobs.push(["-q", "-f", `${first}`, "-l", `${last}`, `${dir}/doc${f}.pdf`, "-"]);
      }
    }
  }
  const ourRuns: { seconds: number; cpuSeconds: number }[] = [];
  const peerRuns: { seconds: number; cpuSeconds: number; characters: number }[] = [];
  const ours = async () => {
    const ran = await run(Deno.execPath(), [
      "run",
      "--allow-all",
      INGEST_RUN,
      `${dir}.out`,
      dir,
      String(workers),
    ]);
    ourRuns.push({ seconds: JSON.parse(ran.stdout).extract, cpuSeconds: ran.cpuSeconds });
  };
  const peer = async () => {
    const t = performance.now();
    const outputs = await inParallel(jobs.map((args) => () => run("pdftotext", args)), workers);
    peerRuns.push({
      seconds: (performance.now() - t) / 1000,
      cpuSeconds: outputs.reduce((n, o) => n + o.cpuSeconds, 0),
      characters: outputs.reduce((n, o) => n + o.stdout.length, 0),
    });
  };
  // Each run is one of ours and one of the peer's, back to back, taking turns at going first, so
  // that a machine growing busier or quieter weighs on both alike.
  for (let r = 0; r < runs; r++) {
    for (const side of r % 2 ? [peer, ours] : [ours, peer]) await side();
  }
  const ratios = ourRuns.map((o, r) => peerRuns[r].seconds / o.seconds);
  const cpu = (rs: { cpuSeconds: number }[]) => rs.reduce((n, r) => n + r.cpuSeconds, 0);
  const ourSeconds = median(ourRuns.map((r) => r.seconds));
  const peerSeconds = median(peerRuns.map((r) => r.seconds));
  return {
    files,
    pages,
    runs,
    ours: {
      pagesPerSecond: round(pages / ourSeconds, 1),
      seconds: round(ourSeconds, 3),
      // The whole process (Deno's start, the tokenizer and encoding included): so extraction alone
      // does more.
      pagesPerCpuSecond: round((runs * pages) / cpu(ourRuns), 1),
    },
    pdftotext: {
      processes: workers,
      pagesPerSecond: round(pages / peerSeconds, 1),
      seconds: round(peerSeconds, 3),
      pagesPerCpuSecond: round((runs * pages) / cpu(peerRuns), 1),
      characters: peerRuns[0].characters,
    },
    // Median of the runs' ratios of pages/s, ours to the peer's; then each run's.
    ratio: round(median(ratios), 3),
    ratios: ratios.map((r) => round(r, 3)),
  };
}

/**
 * Image-only PDFs of known prose, tilted and noisy, two of them: ours (render + OCR in the extract
 * stage) against pdftoppm + tesseract per page.
 */
async function scannedPdfs(dir: string, pages: number, workers: number) {
  await Deno.mkdir(dir, { recursive: true });
  const text = realisticText(pages * 36 * 70, 11).join(" ").replace(/[^\x20-\x7e]/g, " ")
    .match(/.{1,70}(\s|$)/g)!.map((l) => l.trim());
  const known: string[][] = [[], []];
  for (let f = 0; f < 2; f++) {
    const plans = [];
    for (let p = f; p < pages; p += 2) {
      const lines = text.slice(p * 36, (p + 1) * 36);
      known[f].push(lines.join("\n"));
      plans.push(
        scannedPage(drawLayout({ columns: [lines] }, { tiltDegrees: 0.8, noise: 20, seed: p })),
      );
    }
    await Deno.writeFile(`${dir}/scan${f}.pdf`, makePdf(plans));
  }
  const cpu0 = processCpuSeconds();
  const ours = await runIngest(
    { out: `${dir}.out`, inputs: [dir], workers, ocrWorkers: workers, dumpText: `${dir}.text` },
    { log: silentLogger, progressWrite: () => {} },
  );
  const ourCpu = processCpuSeconds() - cpu0;
  const ourText = await Promise.all(
    [0, 1].map((f) => Deno.readTextFile(`${dir}.text/scan${f}.pdf.txt`)),
  );
  const t = performance.now();
  const peerPages = await inParallel(
    known.flatMap((filePages, f) =>
      filePages.map((_, i) => () => pdftoppmTesseract(`${dir}/scan${f}.pdf`, i + 1, `${dir}.peer`))
    ),
    workers,
  );
  const peerSeconds = (performance.now() - t) / 1000;
  const peerCpu = peerPages.reduce((n, p) => n + p.cpuSeconds, 0);
  const texts = peerPages.map((p) => p.stdout);
  const peerText = [texts.slice(0, known[0].length), texts.slice(known[0].length)];
  const accuracy = (texts: string[]) =>
    round(Math.min(...texts.map((t, f) => charAccuracy(known[f].join("\n"), t))), 4);
  const ourPps = ours.pages.ocrPages / ours.stages.extract, peerPps = pages / peerSeconds;
  return {
    pages,
    ours: {
      ocrPages: ours.pages.ocrPages,
      pagesPerSecond: round(ourPps, 3),
      seconds: round(ours.stages.extract, 2),
      cpuSecondsPerPage: round(ourCpu / ours.pages.ocrPages, 2),
      accuracy: accuracy(ourText),
    },
    tesseractCli: {
      processes: workers,
      pagesPerSecond: round(peerPps, 3),
      seconds: round(peerSeconds, 2),
      cpuSecondsPerPage: round(peerCpu / pages, 2),
      accuracy: accuracy(peerText.map((p) => p.join("\n"))),
    },
    ratio: round(ourPps / peerPps, 3),
  };
}

/** One page rendered at 300 DPI in gray by pdftoppm and read by one single-threaded tesseract. */
async function pdftoppmTesseract(
  pdf: string,
  page: number,
  tmp: string,
): Promise<Pick<Ran, "stdout" | "cpuSeconds">> {
  await Deno.mkdir(tmp, { recursive: true });
  const base = `${tmp}/${pdf.split("/").pop()}-${page}`;
  const render = await run("pdftoppm", [
    "-r",
    "300",
    "-gray",
    "-f",
    `${page}`,
    "-l",
    `${page}`,
    "-singlefile",
    pdf,
    base,
  ]);
  const ocr = await run("tesseract", [`${base}.pgm`, "stdout", "-l", "eng"], {
    OMP_THREAD_LIMIT: "1",
  });
  return { stdout: ocr.stdout, cpuSeconds: render.cpuSeconds + ocr.cpuSeconds };
}

/** `mb` files of about 1 MB of generated prose, code and numbers each. */
async function generatedCorpus(dir: string, mb: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < mb; i++) {
    const text = realisticText(1e6, 1000 + i).join("\n\n");
    await Deno.writeTextFile(`${dir}/part${String(i).padStart(5, "0")}.txt`, text);
  }
}

/** The ingest CLI over `inputs` under GNU time: peak RSS, wall time, tokens. */
async function peakRss(inputs: string | string[], tmp: string) {
  const out = `${tmp}/rss.out`;
  const t = performance.now();
  const { peakRssKb } = await run(Deno.execPath(), [
    "run",
    "--allow-all",
    INGEST,
    "--out",
    out,
    ...[inputs].flat(),
  ]);
  const seconds = (performance.now() - t) / 1000;
  const manifest = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
  await Deno.remove(out, { recursive: true });
  return {
    peakRssMB: round(peakRssKb / 1024, 1),
    seconds: round(seconds, 1),
    tokens: manifest.totals.train + manifest.totals.val,
    tokenizerSampled: manifest.tokenizer.sampled ?? null,
  };
}

/** Runs `tasks` with at most `limit` at once; results keep their order. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

/** A command's output and what it cost, from GNU time. */
interface Ran {
  stdout: string;
  /** User and system CPU time. */
  cpuSeconds: number;
  peakRssKb: number;
}

/** Runs a command under GNU time. Throws naming it when it fails. */
async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "\n@time %U %S %M", cmd, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => {
    throw new Error(`GNU time is missing (.ci/run installs it): ${err.message}`);
  });
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${stderr}`);
  const [user, sys, kb] = stderr.slice(stderr.lastIndexOf("@time ") + 6).trim().split(" ");
  return {
    stdout: new TextDecoder().decode(out.stdout),
    cpuSeconds: Number(user) + Number(sys),
    peakRssKb: Number(kb),
  };
}

/** CPU seconds this process has used, every thread included (Linux). */
function processCpuSeconds(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ ticks
}
