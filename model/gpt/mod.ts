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
  EvalStep,
  float32Ops,
  type Precision,
  TrainStep,
  type TrainStepShape,
} from "./train_step.ts";
