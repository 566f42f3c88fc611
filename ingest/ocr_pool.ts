import { createWorker, OEM, type Worker } from "tesseract.js";

/** Folder of `eng.traineddata.gz` inside the npm package `@tesseract.js-data/eng` (LSTM, best_int). */
export const ENG_LANG_PATH = new URL(
  "../node_modules/@tesseract.js-data/eng/4.0.0_best_int",
  import.meta.url,
).pathname;

/** Mean word confidence (0-100) below which OCR output is treated as noise. */
export const MIN_CONFIDENCE = 40;

/** OCR output of one image. */
export interface OcrText {
  text: string;
  /** Tesseract's mean confidence, 0-100. */
  confidence: number;
}

/**
 * A pool of single-threaded tesseract.js workers, one per core by default (tesseract's own
 * threading is several times slower on few cores). Workers start on first use and load the
 * English model from `node_modules`; nothing is downloaded.
 *
 * @example
 * ```ts
 * const pool = new OcrPool(2);
 * const { text } = await pool.recognize(pngBytes);
 * await pool.close();
 * ```
 */
export class OcrPool {
  #size: number;
  #idle: Worker[] = [];
  #all: Promise<Worker>[] = [];
  #waiting: ((w: Worker) => void)[] = [];

  constructor(size = navigator.hardwareConcurrency || 1) {
    this.#size = Math.max(1, size);
  }

  /** Recognises English text in an encoded image (PNG, JPEG, WebP, TIFF). */
  async recognize(image: Uint8Array): Promise<OcrText> {
    const worker = await this.#acquire();
    try {
      const { data } = await worker.recognize(image);
      return { text: data.text ?? "", confidence: data.confidence ?? 0 };
    } finally {
      this.#release(worker);
    }
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    const workers = await Promise.allSettled(this.#all);
    await Promise.all(
      workers.map((w) =>
        w.status === "fulfilled" ? w.value.terminate().catch(() => {}) : undefined
      ),
    );
    this.#all = [];
    this.#idle = [];
  }

  async #acquire(): Promise<Worker> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.length < this.#size) {
      const started = createWorker("eng", OEM.LSTM_ONLY, {
        langPath: ENG_LANG_PATH,
        cacheMethod: "none",
        gzip: true,
      });
      this.#all.push(started);
      return await started;
    }
    return await new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(worker: Worker): void {
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#idle.push(worker);
  }
}
