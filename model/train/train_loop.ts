/**
 * The single-process training loop: optimizer steps until the configured count or a stop request,
 * validation and checkpoints on the config's schedule, and a final checkpoint.
 *
 * @example
 * ```ts
 * using view = new RunConsole({ total: train.steps, stopping: "saving a checkpoint" });
 * const { saved } = await trainLoop(trainer, { log, view, title: "tiny", checkpoints: "RUN/checkpoints" });
 * ```
 */
import { saveCheckpoint, type SavedCheckpoint } from "../checkpoint/mod.ts";
import type { RunConsole } from "./run_console.ts";
import type { RunLog } from "./run_log.ts";
import type { StepMetrics, Trainer } from "./trainer.ts";

/** Where {@linkcode trainLoop} reports and saves. */
export interface TrainLoopOptions {
  log: RunLog;
  view: RunConsole;
  /** Title of the run's plots, redrawn at every checkpoint and at the end. */
  title: string;
  /** Checkpoint directory; without it no checkpoint is written. */
  checkpoints?: string;
}

/** How {@linkcode trainLoop} ended. */
export interface TrainLoopResult {
  /** The last step's metrics (none when no step ran). */
  last?: StepMetrics;
  /** The final checkpoint, when `checkpoints` was given. */
  saved?: SavedCheckpoint;
}

/**
 * Trains until `trainer.train.steps` or until `view` is asked to stop, then saves a final
 * checkpoint (when `checkpoints` is given) and draws the plots.
 */
export async function trainLoop(trainer: Trainer, o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { steps, evalEvery, checkpointEvery, keepLast } = trainer.train;
  const save = async () =>
    o.checkpoints
      ? await saveCheckpoint(o.checkpoints, await trainer.checkpointContents(), { keepLast })
      : undefined;
  let last: StepMetrics | undefined, saved: SavedCheckpoint | undefined, savedStep = -1;
  while (trainer.step < steps && !o.view.stopRequested) {
    const m = last = await trainer.trainStep();
    await o.log.write(m);
    o.view.step(m);
    if (evalEvery && m.step % evalEvery === 0) {
      const val = await trainer.evaluate();
      if (val !== undefined) await o.log.write({ step: m.step, val_loss: val });
    }
    if (checkpointEvery && m.step % checkpointEvery === 0) {
      saved = await save();
      savedStep = m.step;
      await o.log.plot(o.title);
    }
  }
  // A run that ends on a checkpoint step has written its last checkpoint already.
  if (savedStep !== trainer.step) saved = await save();
  await o.log.plot(o.title);
  return { last, saved };
}
