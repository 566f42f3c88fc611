/**
 * What a person sees of a training run in the terminal: a bar of optimizer steps with the loss and
 * throughput beside it, and a two-stage Ctrl-C. The first Ctrl-C asks the run to stop after the
 * step in flight (so it can save a checkpoint); the second gives up at once.
 *
 * @example
 * ```ts
 * using view = new RunConsole({ total: 200, stopping: "saving a checkpoint" });
 * while (trainer.step < 200 && !view.stopRequested) view.step(await trainer.trainStep());
 * ```
 */
import { Progress } from "../progress.ts";

/** Options for {@linkcode RunConsole}. */
export interface RunConsoleOptions {
  /** Optimizer steps of the whole run. */
  total: number;
  /** Steps done before this process started (a resumed run). */
  initial?: number;
  /** What the run does after the first Ctrl-C, e.g. "saving a checkpoint". */
  stopping: string;
  /** Called on the first Ctrl-C. */
  onStop?: () => void;
  /** Called on the second Ctrl-C, just before the process exits with 130. */
  onAbort?: () => void;
}

/** One step as the bar shows it. */
export interface StepView {
  step: number;
  loss: number;
  tokens_per_s: number;
  /** Workers in the step's ring (distributed runs). */
  world_size?: number;
  /** The fp16 update was skipped for an overflow. */
  skipped?: boolean;
}

/** A step bar and the Ctrl-C handler of one training run; dispose it when the run ends. */
export class RunConsole implements Disposable {
  #stopRequested = false;
  readonly #bar: Progress;
  readonly #onSignal: () => void;

  constructor(o: RunConsoleOptions) {
    this.#bar = new Progress({ label: "train", total: o.total, unit: "steps", initial: o.initial });
    this.#onSignal = () => {
      if (this.#stopRequested) {
        o.onAbort?.();
        Deno.exit(130);
      }
      this.#stopRequested = true;
      console.error(`\nfinishing the step in flight; ${o.stopping} (Ctrl-C again to abort)`);
      o.onStop?.();
    };
    Deno.addSignalListener("SIGINT", this.#onSignal);
  }

  /** True once Ctrl-C was pressed. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** Moves the bar to `m.step` and shows its loss and throughput. */
  step(m: StepView): void {
    const workers = m.world_size === undefined ? "" : `  ${m.world_size} workers`;
    const skipped = m.skipped ? "  (skipped: fp16 overflow)" : "";
    this.#bar.set(
      m.step,
      `loss ${m.loss.toFixed(3)}${workers}  ${Math.round(m.tokens_per_s)} tok/s${skipped}`,
    );
  }

  /** Finishes the bar and stops listening for Ctrl-C. */
  [Symbol.dispose](): void {
    this.#bar.done();
    Deno.removeSignalListener("SIGINT", this.#onSignal);
  }
}
