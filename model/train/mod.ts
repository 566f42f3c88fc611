/** Training: hyper-parameters, samples, the optimizer step shared by all trainers, and the run log. */
export { SCHEDULE_DEFAULTS, TrainConfig } from "./config.ts";
export { Freeze, frozenParams, parseFreeze } from "./freeze.ts";
export { type TokenArray, WindowSampler } from "./batches.ts";
export { type AllReduce, type StepMetrics, Trainer, type TrainerInit } from "./trainer.ts";
export { RunLog } from "./run_log.ts";
export { loadTrainingData, type TrainingData } from "./data_source.ts";
export { fineTuningJob, JobConfig, jobModel, jobModelFields, readJobFile } from "./job_config.ts";
export { RunConsole, type RunConsoleOptions, type StepView } from "./run_console.ts";
export { trainLoop, type TrainLoopOptions, type TrainLoopResult } from "./train_loop.ts";
export { checkDataTokenizer, pretrainedState } from "./pretrained_start.ts";
