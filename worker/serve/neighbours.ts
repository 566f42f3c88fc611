/**
 * `POST /v1/neighbours`, this server's own extension of the OpenAI API: the tokens whose input
 * embeddings lie nearest (by cosine similarity) to a token's, or to the mean of a text's tokens,
 * as `deno task embeddings similar` lists them (model/embeddings: TokenEmbeddings,
 * nearestTokens). The input is matched first as one token's text exactly as the log-probability
 * listings spell it (`tokens` of a completion's `logprobs`, `bytes:\xNN` for part of a
 * character), so a playground can ask about any token it was sent; otherwise it is encoded.
 *
 * @example
 * ```ts
 * // curl http://127.0.0.1:8000/v1/neighbours -d '{"input": " the", "k": 5}'
 * const backend = { ...rest, embeddings: servedTokenEmbeddings(model.weights, model.codec) };
 * ```
 */
import { z } from "zod";
import {
  nearestTokens,
  TOKEN_EMBEDDING,
  TokenEmbeddings,
  type WordVector,
} from "../../model/embeddings/mod.ts";
import { InputError } from "../../model/errors.ts";
import type { WeightTable } from "../../model/infer/mod.ts";
import { checkModel } from "./completions.ts";
import type { GenerationBackend, ServedEmbeddings } from "./backend.ts";
import { HttpError } from "./http_errors.ts";
import { parseOpenAi } from "./openai_params.ts";
import { type TextCodec, tokenText } from "./text_codec.ts";

/** The request body. */
export const NeighboursRequest = z.object({
  model: z.string().max(1000).nullish(),
  input: z.string().min(1).max(1000).refine((s) => s.isWellFormed(), "must be well-formed Unicode"),
  k: z.number().int().min(1).max(100).nullish().transform((v) => v ?? 10),
}).strict();

/** The served model's token embedding table and the ids of its tokens' texts. */
export function servedTokenEmbeddings(weights: WeightTable, codec: TextCodec): ServedEmbeddings {
  const wte = weights.get(TOKEN_EMBEDDING);
  if (!wte || wte.shape.length !== 2) throw new Error(`The model has no 2-D "${TOKEN_EMBEDDING}"`);
  const [rows, width] = wte.shape;
  const decode = (ids: ArrayLike<number>) => {
    if (ids.length !== 1) return new TextDecoder().decode(codec.decodeBytes(ids));
    // A padded embedding table (GPT-2's 50304 rows for 50257 tokens) has rows no token names.
    return ids[0] < codec.vocabSize ? tokenText(codec, ids[0]) : `<unused ${ids[0]}>`;
  };
  const table = new TokenEmbeddings(wte.data, rows, width, { encode: codec.encode, decode });
  const ids = new Map<string, number>();
  for (let id = rows - 1; id >= 0; id--) ids.set(table.tokenText(id), id);
  return { table, ids };
}

/** Answers a neighbours request (the API key was checked by the caller). */
export function neighbours(b: GenerationBackend, body: unknown): Response {
  const r = parseOpenAi(NeighboursRequest, body);
  checkModel(b, r.model);
  if (!b.embeddings) {
    throw new HttpError(404, "This server has no token embedding table", "unknown_url");
  }
  const { table } = b.embeddings;
  const query = lookup(b.embeddings, r.input);
  const data = nearestTokens(table, query.vector, { k: r.k, exclude: query.ids });
  return Response.json({
    object: "list",
    model: b.modelId,
    input: { text: r.input, ids: query.ids, pieces: query.pieces },
    data: data.map((n) => ({ object: "neighbour", ...n })),
  });
}

/** A token by its listed text, else the text's tokens (their mean, as the embeddings tool does). */
function lookup({ table, ids }: ServedEmbeddings, input: string): WordVector {
  const id = ids.get(input);
  if (id !== undefined) {
    return { word: input, encoded: input, ids: [id], pieces: [input], vector: table.row(id) };
  }
  try {
    return table.word(input, { exact: true });
  } catch (err) {
    if (err instanceof InputError) throw new InputError("input", "encodes to no tokens");
    throw err;
  }
}
