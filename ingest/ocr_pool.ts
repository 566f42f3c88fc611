import { createWorker, OEM, type Page, type Worker } from "tesseract.js";
import { type Box, columnOrder, median } from "./reading_order.ts";

/** Folder of `eng.traineddata.gz` inside the npm package `@tesseract.js-data/eng` (LSTM, best_int). */
export const ENG_LANG_PATH = new URL(
  "../node_modules/@tesseract.js-data/eng/4.0.0_best_int",
  import.meta.url,
).pathname;

/** Mean word confidence (0-100) below which OCR output is treated as noise. */
export const MIN_CONFIDENCE = 40;

/**
 * A gutter between OCR columns is at least this many word heights wide; word spaces in body text
 * are about half a word height.
 */
const OCR_GUTTER_HEIGHTS = 1.2;

/** OCR output of one image. */
export interface OcrText {
  /** The text, columns read one after the other. */
  text: string;
  /** Tesseract's mean confidence, 0-100. */
  confidence: number;
}

/** One tesseract.js worker and a promise that rejects when its thread dies. */
interface Recogniser {
  tess: Worker;
  died: Promise<never>;
  dead: boolean;
}

/**
 * A pool of single-threaded tesseract.js workers, one per core by default (tesseract's own
 * threading is several times slower on few cores). Workers start on first use and load the
 * English model from `node_modules`; nothing is downloaded. A bad image rejects its own
 * `recognize` call and nothing else: tesseract.js rethrows job errors on the main thread unless
 * given an error handler, and a worker thread that dies takes its job with it, so both are caught
 * here and a dead worker is replaced.
 *
 * @example
 * ```ts
 * const pool = new OcrPool(2);
 * const { text } = await pool.recognize(pngBytes);
 * await pool.close();
 * ```
 */
export class OcrPool {
  /** Recognisers at most. */
  readonly size: number;
  #live = 0;
  #started: Promise<Recogniser>[] = [];
  #idle: Recogniser[] = [];
  #waiting: ((r: Recogniser | undefined) => void)[] = [];

  constructor(size = navigator.hardwareConcurrency || 1) {
    this.size = Math.max(1, size);
  }

  /** Recognises English text in an encoded image (PNG, JPEG, WebP, TIFF, PGM). */
  async recognize(image: Uint8Array): Promise<OcrText> {
    const rec = await this.#acquire();
    try {
      const { data } = await Promise.race([
        rec.tess.recognize(image, {}, { text: true, blocks: true }),
        rec.died,
      ]).catch((err) => {
        throw err instanceof Error ? err : new Error(String(err).replace(/^Error: /, ""));
      });
      return { text: readingOrderText(data), confidence: data.confidence ?? 0 };
    } finally {
      this.#release(rec);
    }
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    const all = await Promise.allSettled(this.#started);
    this.#started = [];
    this.#idle = [];
    await Promise.all(
      all.map((r) => r.status === "fulfilled" ? r.value.tess.terminate().catch(() => {}) : null),
    );
  }

  async #acquire(): Promise<Recogniser> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#live >= this.size) {
      const handed = await new Promise<Recogniser | undefined>((r) => this.#waiting.push(r));
      return handed ?? this.#acquire();
    }
    this.#live++;
    const started = startRecogniser();
    this.#started.push(started);
    try {
      return await started;
    } catch (err) {
      this.#retire();
      throw new Error(`OCR engine did not start: ${(err as Error)?.message ?? err}`);
    }
  }

  #release(rec: Recogniser): void {
    if (rec.dead) {
      rec.tess.terminate().catch(() => {});
      this.#retire();
      return;
    }
    const next = this.#waiting.shift();
    if (next) next(rec);
    else this.#idle.push(rec);
  }

  /** A worker is gone: a waiting caller may start another. */
  #retire(): void {
    this.#live--;
    this.#waiting.shift()?.(undefined);
  }
}

async function startRecogniser(): Promise<Recogniser> {
  const tess = await createWorker("eng", OEM.LSTM_ONLY, {
    langPath: ENG_LANG_PATH,
    cacheMethod: "none",
    gzip: true,
    // Without a handler tesseract.js throws each failed job's error on the main thread, where
    // nothing can catch it; the job's own promise rejects either way.
    errorHandler: () => {},
  });
  let die!: (err: Error) => void;
  const rec: Recogniser = {
    tess,
    died: new Promise<never>((_, reject) => (die = reject)),
    dead: false,
  };
  rec.died.catch(() => {});
  const thread = (tess as unknown as { worker: NodeWorkerLike }).worker;
  thread.on("error", (err) => {
    rec.dead = true;
    die(new Error(`OCR worker crashed: ${(err as Error)?.message ?? err}`));
  });
  thread.on("exit", (code) => {
    rec.dead = true;
    die(new Error(`OCR worker stopped (exit code ${code})`));
  });
  return rec;
}

interface NodeWorkerLike {
  on(event: "error" | "exit", listener: (arg: unknown) => void): void;
}

/**
 * Tesseract's text, or when its words stand in columns (see {@linkcode columnOrder}), the words
 * read column by column, a new line wherever the next word is not on the same OCR line.
 */
function readingOrderText(data: Page): string {
  const words: (Box & { text: string; line: number })[] = [];
  let line = 0;
  for (const block of data.blocks ?? []) {
    for (const para of block.paragraphs) {
      for (const l of para.lines) {
        for (const w of l.words) if (w.text.trim()) words.push({ ...w.bbox, text: w.text, line });
        line++;
      }
    }
  }
  const order = columnOrder(words, OCR_GUTTER_HEIGHTS * median(words.map((w) => w.y1 - w.y0)));
  if (!order) return data.text ?? "";
  let out = "";
  let prev: (typeof words)[number] | undefined;
  for (const i of order) {
    const w = words[i];
    if (prev) out += prev.line === w.line && w.x0 >= prev.x1 ? " " : "\n";
    out += w.text;
    prev = w;
  }
  return out + "\n";
}
