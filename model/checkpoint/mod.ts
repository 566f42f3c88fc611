/**
 * Checkpoints: the safetensors format, Hugging Face GPT-2 config.json, and the checkpoint directory
 * (`model.safetensors`, `config.json`, `tokenizer.json`, `optimizer.safetensors`, `state.json`)
 * written atomically and verified on load.
 *
 * @module
 */
export { decodeSafetensors, DTYPE_BYTES, elementCount, encodeSafetensors } from "./safetensors.ts";
export type { Dtype, SafetensorsFile, TensorRead, TensorToWrite } from "./safetensors.ts";
export { readSafetensors, writeSafetensors } from "./safetensors_file.ts";
export { dtypeToFloat32, float32ToDtype } from "./dtype_convert.ts";
export type { FloatDtype } from "./dtype_convert.ts";
export { fromHfConfig, MODEL_LIMITS, toHfConfig } from "./hf_config.ts";
export { checkWeightHeaders, decodeModelWeights, toFloat32Weights } from "./model_weights.ts";
export type { HfGpt2Config } from "./hf_config.ts";
export { saveCheckpoint } from "./save_checkpoint.ts";
export type {
  CheckpointContents,
  CheckpointTensor,
  SaveCheckpointOptions,
  SavedCheckpoint,
  TrainingState,
} from "./save_checkpoint.ts";
export { loadCheckpoint, resolveCheckpointDir } from "./load_checkpoint.ts";
export type { LoadedCheckpoint } from "./load_checkpoint.ts";
export { loadModelDir, loadPretrained, type ModelFiles } from "./pretrained_dir.ts";
export { listStepDirs, stepDirName } from "./_layout.ts";
export { checkGpt2Tensors, gpt2TensorShapes } from "./gpt2_layout.ts";
export { decodeTrainingState, encodeTrainingState, type TrainingStatePart } from "./state_blob.ts";
