/**
 * Progress for long work: a redrawn bar with rate and ETA on a TTY, plain lines elsewhere (at most
 * one every `plainEveryMs`), so CI logs stay readable.
 *
 * @example
 * ```ts
 * const bar = new Progress({ label: "train", total: 100, unit: "steps" });
 * for (let i = 0; i < 100; i++) bar.tick(1, "loss 3.21");
 * bar.done();
 * ```
 */
export interface ProgressOptions {
  label: string;
  /** Total amount of work, or undefined when unknown (no bar, no ETA). */
  total?: number;
  /** Work already done before this bar started (a resumed run): counted, but not in the rate. */
  initial?: number;
  /** Unit for the rate, e.g. "files", "MB", "tok". */
  unit?: string;
  /** Defaults to stderr when it is a terminal. */
  tty?: boolean;
  plainEveryMs?: number;
  write?: (text: string) => void;
  now?: () => number;
}

export class Progress {
  #opts: Required<Omit<ProgressOptions, "total" | "initial">> & { total?: number };
  #done: number;
  #initial: number;
  #start: number;
  #lastPlain = -Infinity;
  #note = "";

  constructor(opts: ProgressOptions) {
    const encoder = new TextEncoder();
    this.#opts = {
      unit: "",
      tty: Deno.stderr.isTerminal(),
      plainEveryMs: 5000,
      write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
      now: () => performance.now(),
      ...opts,
    };
    this.#start = this.#opts.now();
    this.#done = this.#initial = opts.initial ?? 0;
  }

  /** Adds `amount` of finished work; `note` (e.g. the current loss) is shown beside the bar. */
  tick(amount = 1, note?: string): void {
    this.#done += amount;
    if (note !== undefined) this.#note = note;
    this.#render(false);
  }

  /** Sets the absolute amount of finished work. */
  set(done: number, note?: string): void {
    this.#done = done;
    if (note !== undefined) this.#note = note;
    this.#render(false);
  }

  /** Prints the final state and ends the line. */
  done(note?: string): void {
    if (note !== undefined) this.#note = note;
    this.#render(true);
  }

  /** The line shown, without terminal control codes. */
  line(): string {
    const { label, total, unit } = this.#opts;
    const seconds = (this.#opts.now() - this.#start) / 1000;
    const rate = seconds > 0 ? (this.#done - this.#initial) / seconds : 0;
    const parts = [label];
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, this.#done / total);
      const width = 24;
      const filled = Math.round(frac * width);
      parts.push(`[${"#".repeat(filled)}${".".repeat(width - filled)}]`);
      parts.push(`${fmt(this.#done)}/${fmt(total)}${unit ? " " + unit : ""}`);
      parts.push(`${(frac * 100).toFixed(0)}%`);
    } else {
      parts.push(`${fmt(this.#done)}${unit ? " " + unit : ""}`);
    }
    parts.push(`${fmt(rate)} ${unit || "it"}/s`);
    if (total !== undefined && rate > 0 && this.#done < total) {
      parts.push(`ETA ${duration((total - this.#done) / rate)}`);
    } else {
      parts.push(`${duration(seconds)}`);
    }
    if (this.#note) parts.push(this.#note);
    return parts.join("  ");
  }

  #render(final: boolean): void {
    const { tty, write, plainEveryMs, now } = this.#opts;
    if (tty) {
      write(`\r\x1b[2K${this.line()}${final ? "\n" : ""}`);
      return;
    }
    const t = now();
    if (final || t - this.#lastPlain >= plainEveryMs) {
      this.#lastPlain = t;
      write(`${this.line()}\n`);
    }
  }
}

function fmt(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function duration(seconds: number): string {
  if (!isFinite(seconds)) return "--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
}
