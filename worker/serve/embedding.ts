/** Embeddings of a text or token ids, checked against the model first: what Embed and /v1/embeddings share. */
import { InputError } from "../../model/errors.ts";
import { checkTokenIds } from "./text_codec.ts";
import type { BatchEngine, Embeddings } from "../../model/infer/mod.ts";
import { ContextLengthError } from "./scheduler.ts";

/**
 * The final-LayerNorm hidden states of `ids` and their mean. Refuses, naming `field`, token ids
 * that are empty, outside the vocabulary or longer than the context.
 */
export function embedTokens(
  engine: BatchEngine,
  ids: readonly number[],
  field: string,
): Promise<Embeddings> {
  const { vocabSize, contextLength } = engine.cfg;
  if (ids.length === 0) throw new InputError(field, "holds no tokens");
  if (ids.length > contextLength) {
    throw new ContextLengthError(
      field,
      `${ids.length} tokens exceed the context of ${contextLength} tokens`,
    );
  }
  checkTokenIds(ids, vocabSize, field);
  return engine.embed(ids);
}
