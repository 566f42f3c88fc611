/**
 * Optimisation on flat fp32 buffers, outside the train-step graph: AdamW, the learning-rate
 * schedule, gradient clipping, fp16 loss scaling and the seeded random source; and the same AdamW
 * step as an ONNX graph for weights kept in GPU memory (`DeviceAdamW`).
 *
 * @module
 */
export { AdamW, decaysByShape } from "./adamw.ts";
export type { AdamWOptions, AdamWParam, AdamWState } from "./adamw.ts";
export { buildDeviceAdamWGraph, DeviceAdamW } from "./device_adamw.ts";
export type { DeviceStepOptions, DeviceStepResult, FlatParam } from "./device_adamw.ts";
export { lrAt } from "./lr_schedule.ts";
export type { LrSchedule } from "./lr_schedule.ts";
export { clipGradNorm, globalNorm, scaleBuffers } from "./grad_clip.ts";
export { hasInfOrNaN, LossScaler } from "./loss_scaler.ts";
export type { LossScalerOptions, LossScalerState } from "./loss_scaler.ts";
export { Rng, seededRandom } from "./rng.ts";
export type { RngState } from "./rng.ts";
