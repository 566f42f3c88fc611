/// <reference lib="deno.worker" />
/**
 * The ingest worker thread: runs one {@linkcode Task} at a time and answers with its result or its
 * error. A library may reject a promise nobody awaits, after the call that caused it has returned,
 * so an unhandled rejection or uncaught error during a task, or in the turn of the event loop
 * after it, fails that task instead of the thread.
 */
import type { BpeTokenizer } from "../model/tokenizer/mod.ts";
import { extractFile } from "./extract_file.ts";
import type { OpenPdf } from "./extract_pdf.ts";
import { finishDocument } from "./finish_document.ts";
import { pdfiumModuleFrom } from "./pdfium.ts";
import type {
  HelloMessage,
  PdfiumRequest,
  ReplyMessage,
  Task,
  TaskMessage,
} from "./worker_protocol.ts";

let stray: unknown;
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  stray ??= e.reason;
});
self.addEventListener("error", (e) => {
  e.preventDefault();
  stray ??= e.error ?? e.message;
});

/**
 * A turn of the event loop, by a message this thread sends itself: a zero timeout takes about 2 ms
 * in a worker, and a task that takes a few milliseconds would wait on it as long as it runs.
 */
const turn = new MessageChannel();
let turned: (() => void) | undefined;
turn.port1.onmessage = () => turned?.();
const nextTurn = () =>
  new Promise<void>((resolve) => {
    turned = resolve;
    turn.port2.postMessage(null);
  });

/** The main thread's answer to this thread's request for the compiled PDFium. */
let pdfiumArrived: ((module: WebAssembly.Module | undefined) => void) | undefined;
pdfiumModuleFrom(() =>
  new Promise((resolve) => {
    pdfiumArrived = resolve;
    self.postMessage({ wantPdfium: true } satisfies PdfiumRequest);
  })
);

/** The PDF reader, loaded on the first PDF: a worker that only ever sees text stays small. */
let pdfModule: Promise<typeof import("./extract_pdf.ts")> | undefined;
const pdfReader = () => (pdfModule ??= import("./extract_pdf.ts"));
/**
 * The tokenizer and shard code (with zod behind them), loaded on the first encode task: the threads
 * that extract start without them.
 */
let encodeModules:
  | Promise<[typeof import("./encode_batch.ts"), typeof import("../model/tokenizer/mod.ts")]>
  | undefined;
const encoder = () => (encodeModules ??= Promise.all([
  import("./encode_batch.ts"),
  import("../model/tokenizer/mod.ts"),
]));

/** The last PDF opened, kept for the page and render tasks of the same file that follow. */
let cachedPdf: { path: string; pdf: Promise<OpenPdf> } | undefined;
let spill: { path: string; file: Deno.FsFile } | undefined;
let tokenizer: { path: string; tok: BpeTokenizer } | undefined;

self.onmessage = async ({ data }: MessageEvent<TaskMessage | HelloMessage>) => {
  if ("hello" in data) {
    pdfiumArrived?.(data.hello.pdfium);
    return;
  }
  stray = undefined;
  let reply: ReplyMessage, transfer: Transferable[] = [];
  try {
    const result = await run(data.task);
    await nextTurn(); // let late rejections of this task surface
    if (stray !== undefined) throw stray;
    reply = { id: data.id, result };
    transfer = transferables(result);
  } catch (err) {
    await dropPdf(); // the document may be in a bad state after an error
    reply = { id: data.id, error: describe(err) };
  }
  self.postMessage(reply, transfer);
};

function run(task: Task): Promise<unknown> {
  switch (task.type) {
    case "file":
      return extractFile(task.path, task.relPath, {
        firstPages: task.firstPages,
        rule: task.rule,
        readPdf: async (path, bytes, first) => {
          const pdf = await pdfFor(path, bytes);
          const pages = pdf.pages;
          const outcomes = await (await pdfReader()).readPages(pdf, 1, Math.min(pages, first));
          return { pages, truncated: pdf.truncated, outcomes };
        },
      });
    case "pages":
      return pdfFor(task.path).then(async (pdf) =>
        (await pdfReader()).readPages(pdf, task.from, task.to)
      );
    case "render":
      return pdfFor(task.path).then(async (pdf) => (await pdfReader()).renderPage(pdf, task.page));
    case "finish":
      return finishDocument(task.text, task.code, task.rule);
    case "encode":
      return encode(task);
  }
}

async function pdfFor(path: string, bytes?: Uint8Array): Promise<OpenPdf> {
  if (cachedPdf?.path !== path) {
    await dropPdf();
    const opened = (async () => (await pdfReader()).openPdf(bytes ?? await Deno.readFile(path)))();
    cachedPdf = { path, pdf: opened };
  }
  return await cachedPdf!.pdf;
}

async function dropPdf(): Promise<void> {
  const old = cachedPdf;
  cachedPdf = undefined;
  if (old) await old.pdf.then(async (pdf) => (await pdfReader()).closePdf(pdf), () => {});
}

async function encode(task: Task & { type: "encode" }) {
  await dropPdf();
  const [{ encodeBatch }, { loadTokenizer }] = await encoder();
  if (spill?.path !== task.spill) {
    spill?.file.close();
    spill = { path: task.spill, file: await Deno.open(task.spill, { read: true }) };
  }
  if (tokenizer?.path !== task.tokenizer) {
    tokenizer = { path: task.tokenizer, tok: await loadTokenizer(task.tokenizer) };
  }
  return encodeBatch(spill.file, tokenizer.tok, task.ranges, task.dtype);
}

/** The buffers of a result, moved rather than copied to the main thread. */
function transferables(result: unknown): Transferable[] {
  if (ArrayBuffer.isView(result)) return [result.buffer as ArrayBuffer];
  if (typeof result !== "object" || result === null) return [];
  const out: Transferable[] = [];
  for (const v of Object.values(result)) {
    if (ArrayBuffer.isView(v)) out.push(v.buffer as ArrayBuffer);
    else if (typeof v === "object" && v !== null && "bytes" in v && ArrayBuffer.isView(v.bytes)) {
      out.push(v.bytes.buffer as ArrayBuffer);
    }
  }
  return out;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const plain = err.name === "Error" || err.name === "PdfError";
    return plain ? err.message || err.name : `${err.name}: ${err.message}`;
  }
  if (typeof err === "object" && err !== null && "message" in err) return String(err.message);
  return String(err);
}
