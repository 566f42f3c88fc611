/**
 * A run's record: `RUN/metrics.jsonl` (one JSON object a line: train steps and eval lines) and
 * `RUN/loss.svg`, the train and validation loss curves, redrawn atomically as the run goes.
 * Shared by `deno task train` and the coordinator.
 */
import { appendText, atomicWriteText } from "../atomic_write.ts";
import { lineChartSvg } from "../plot/mod.ts";

export class RunLog {
  readonly dir: string;
  readonly #train: [number, number][] = [];
  readonly #val: [number, number][] = [];
  readonly #lr: [number, number][] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens `dir`'s log; when resuming, the existing lines up to `fromStep` are kept and replotted. */
  static async open(dir: string, fromStep = 0): Promise<RunLog> {
    await Deno.mkdir(dir, { recursive: true });
    const log = new RunLog(dir);
    const kept: string[] = [];
    try {
      for (const line of (await Deno.readTextFile(`${dir}/metrics.jsonl`)).split("\n")) {
        if (!line.trim()) continue;
        const m = JSON.parse(line);
        if (m.step > fromStep) continue;
        kept.push(line);
        log.#remember(m);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    // Steps after the checkpoint we resume from are replayed, so their old lines go.
    await atomicWriteText(`${dir}/metrics.jsonl`, kept.map((l) => l + "\n").join(""));
    return log;
  }

  /** Appends one metrics object (it must have a `step`). */
  async write(metrics: { step: number } & Record<string, unknown>): Promise<void> {
    await appendText(`${this.dir}/metrics.jsonl`, JSON.stringify(metrics) + "\n");
    this.#remember(metrics);
  }

  /** Redraws `loss.svg` (and `lr.svg`). */
  async plot(title: string): Promise<void> {
    const series = [{ name: "train", points: this.#train }];
    if (this.#val.length) series.push({ name: "validation", points: this.#val });
    await atomicWriteText(
      `${this.dir}/loss.svg`,
      lineChartSvg({
        title,
        xLabel: "optimizer step",
        yLabel: "cross-entropy (nats/token)",
        series,
      }),
    );
    await atomicWriteText(
      `${this.dir}/lr.svg`,
      lineChartSvg({
        title: "Learning rate",
        xLabel: "optimizer step",
        yLabel: "learning rate",
        series: [{ name: "lr", points: this.#lr }],
      }),
    );
  }

  #remember(m: Record<string, unknown>): void {
    const step = m.step as number;
    if (typeof m.loss === "number" && !m.skipped) this.#train.push([step, m.loss]);
    if (typeof m.lr === "number") this.#lr.push([step, m.lr]);
    if (typeof m.val_loss === "number") this.#val.push([step, m.val_loss]);
  }
}
