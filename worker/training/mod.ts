/**
 * `worker/training/`: the training worker's lifecycle. A worker joins the coordinator's job, keeps
 * its lease alive from a thread of its own, fetches and verifies its shards, and runs step after
 * step: micro-batches through the `Trainer`, gradients around the ring (`worker/collective/`), the
 * coordinator's verdict, then the optimizer update.
 *
 * @example
 * ```ts
 * await runTrainingWorker({ coordinator: "127.0.0.1:50051", token, host: "127.0.0.1", logger });
 * ```
 */
export { runTrainingWorker } from "./training_worker.ts";
export type { TrainingWorkerOptions, WorkerOutcome } from "./training_worker.ts";
export { CoordinatorClient } from "./coordinator_client.ts";
