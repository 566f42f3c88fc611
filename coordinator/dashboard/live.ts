/**
 * Feeds a {@linkcode RunView} from the coordinator's own TrainingMetrics while the job runs: the
 * same metrics lines the coordinator writes to RUN/metrics.jsonl (made by the same functions),
 * each step record, and what only the coordinator knows as it happens (worker devices and
 * states, each worker's step timings).
 */
import type { JobConfig } from "../../model/train/mod.ts";
import { scheduleLine, stepLine, type TrainingEvent, type TrainingMetrics } from "../metrics.ts";
import { checkpointInfo } from "./run_dir.ts";
import type { CheckpointInfo, RunView } from "./run_view.ts";

/** A job the coordinator runs, as the dashboard follows it. */
export interface LiveJob {
  /** The run directory. */
  run: string;
  /** The job config with its model resolved (what RUN/job.json holds). */
  config: JobConfig;
  metrics: TrainingMetrics;
  /** Settles when the job ends. */
  finished: Promise<unknown>;
}

/** Shows `job` in `view` from now on; returns the function that stops following it. */
export function followJob(view: RunView, job: LiveJob): () => void {
  view.restart();
  view.set({ live: true, status: "training", steps: job.config.train.steps, config: job.config });
  const stop = job.metrics.subscribe((e) => void apply(view, job.run, e));
  job.finished.then(
    () => view.set({ status: "finished" }),
    (err: Error) => view.set({ status: "failed", problems: [err.message] }),
  );
  return stop;
}

async function apply(view: RunView, run: string, e: TrainingEvent): Promise<void> {
  switch (e.kind) {
    case "step":
      view.addStepRecord(e.record);
      if (e.record.committed) view.addLine(stepLine(e.record, e.snapshot));
      break;
    case "valLoss":
      view.addLine({ step: e.step, val_loss: e.loss });
      break;
    case "schedule":
      view.addLine(scheduleLine(e));
      break;
    case "rewind":
      view.rewind(e.to);
      break;
    case "checkpoint": {
      // Older ones may have gone (the job's keepLast): the list says so rather than forgets them.
      const dir = `${run}/checkpoints`;
      const written: CheckpointInfo[] = [
        ...view.state.checkpoints.filter((c) => c.step !== e.step),
        { step: e.step, bytes: 0, time: Date.now() },
      ];
      const checkpoints = await Promise.all(
        written.map(async (c) => await checkpointInfo(dir, c.step) ?? { ...c, removed: true }),
      );
      view.set({ checkpoints });
      break;
    }
  }
  view.set({ workers: e.snapshot.workers });
}
