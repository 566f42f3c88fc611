/** The GPT: config and presets, parameters under GPT-2's names, the forward graph and the train step. */
export { GptConfig, PresetName, presets } from "./config.ts";
export { countParams, initParams, type ParamSpec, paramSpecs } from "./params.ts";
export { sinusoidalTable } from "./positional.ts";
export { drawDropoutMasks } from "./dropout.ts";
export { causalMask, type ForwardInputs, type ForwardOutputs, gptForward } from "./gpt.ts";
export { type AttentionContext, type PastKeyValues, type Weights } from "./layers.ts";
export {
  buildEvalGraph,
  buildTrainStepGraph,
  computeDtype,
  float32Ops,
  type Precision,
  type TrainStepShape,
} from "./train_graph.ts";
export {
  type DeviceAccumulation,
  DeviceEvalStep,
  DeviceTrainStep,
  EvalStep,
  type StepOptions,
  TrainStep,
} from "./train_step.ts";
