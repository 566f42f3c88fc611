/**
 * Starting a run from a pretrained model (`train --init-from`, a job's `initFrom`): the data must
 * have been encoded by the model's tokenizer, and the first training state is the model's weights
 * at step 0 with zero optimizer moments.
 */
import type { ModelFiles, TrainingStatePart } from "../checkpoint/mod.ts";
import { InputError } from "../errors.ts";
import { fromTokenizerJson, toTokenizerJson } from "../tokenizer/mod.ts";

/**
 * Throws an InputError naming `flag` unless `dataTokenizerJson` is the model's tokenizer: token ids
 * mean something only to the tokenizer that made them, and data from another one would train the
 * pretrained embeddings on the wrong rows.
 */
export function checkDataTokenizer(
  dataTokenizerJson: string,
  model: ModelFiles,
  flag: string,
): void {
  const canonical = (json: string) =>
    JSON.stringify(toTokenizerJson(fromTokenizerJson(JSON.parse(json))));
  if (canonical(dataTokenizerJson) !== canonical(model.tokenizerJson)) {
    throw new InputError(
      flag,
      `Its tokens were made by another tokenizer than the pretrained model's: run ` +
        `\`deno task ingest --tokenizer ${model.path}\` to encode the documents with it`,
    );
  }
}

/** The model's weights as the state of step 0, for workers to load before the first step. */
export function pretrainedState(model: ModelFiles): TrainingStatePart {
  const zeros = new Map([...model.tensors].map(([k, t]) => [k, new Float32Array(t.data.length)]));
  return {
    tensors: model.tensors,
    optimizer: { step: 0, m: zeros, v: zeros },
    state: { step: 0, data_position: 0 },
  };
}
