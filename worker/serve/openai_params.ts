/**
 * The OpenAI API's request bodies, with OpenAI's field names and defaults (max_tokens 16,
 * temperature 1, n 1), validated once with zod. Fields OpenAI defines that this server cannot honour
 * (logit_bias, suffix, best_of above n, presence and frequency penalties) are refused by name rather
 * than ignored; unknown fields are refused as OpenAI refuses them. `top_k` and
 * `repetition_penalty` are vLLM's extensions.
 */
import { z } from "zod";
import { MAX_LOGPROBS } from "./logprobs.ts";
import { parseRequest } from "./params.ts";
import type { GenerationParams } from "./scheduler.ts";

const wellFormed = (s: string) => s.isWellFormed();
const text = z.string().max(1_000_000).refine(wellFormed, "must be well-formed Unicode");
const tokenIds = z.array(z.number().int().min(0)).min(1).max(1_000_000);
const zeroOnly = z.number().nullish().refine((v) => !v, "is not supported: use repetition_penalty");

/** The most prompts (or inputs) one request may carry, and the most choices per prompt. */
export const MAX_PROMPTS = 64, MAX_CHOICES = 16;

/** A completion's `prompt` or an embedding's `input`: text or token ids, one or a list. */
const texts = z.union([
  text,
  z.array(text).min(1).max(MAX_PROMPTS),
  tokenIds,
  z.array(tokenIds).min(1).max(MAX_PROMPTS),
], {
  error: "must be a string, a list of strings, a list of token ids or a list of such lists " +
    `(at most ${MAX_PROMPTS})`,
});

/** `POST /v1/completions`. */
export const CompletionRequest = z.object({
  model: z.string().max(1000).nullish(),
  prompt: texts,
  // Absent: OpenAI's 16; null: as many as the context leaves room for (vLLM's reading).
  max_tokens: z.number().int().min(0).max(1_000_000).nullish()
    .transform((v) => v === undefined ? 16 : v ?? Number.MAX_SAFE_INTEGER),
  temperature: z.number().min(0).max(2).nullish().transform((v) => v ?? 1),
  top_p: z.number().gt(0).max(1).nullish().transform((v) => v ?? 1),
  top_k: z.number().int().min(-1).max(1_000_000).nullish().transform((v) => Math.max(v ?? 0, 0)),
  repetition_penalty: z.number().gt(0).max(100).nullish().transform((v) => v ?? 1),
  n: z.number().int().min(1).max(MAX_CHOICES).nullish().transform((v) => v ?? 1),
  best_of: z.number().int().nullish(),
  stop: z.union([
    z.string().min(1).max(256).refine(wellFormed, "must be well-formed Unicode"),
    z.array(z.string().min(1).max(256).refine(wellFormed, "must be well-formed Unicode")).max(16),
  ]).nullish().transform((v) =>
    v === null || v === undefined ? [] : typeof v === "string" ? [v] : v
  ),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).strict().nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
  presence_penalty: zeroOnly,
  frequency_penalty: zeroOnly,
  logit_bias: z.record(z.string(), z.number()).nullish()
    .refine((v) => !v || Object.keys(v).length === 0, "is not supported"),
  suffix: z.string().nullish().refine((v) => !v, "is not supported"),
  user: z.string().max(1000).nullish(),
}).strict().refine((r) => !r.best_of || r.best_of === r.n, {
  path: ["best_of"],
  message: "is not supported unless it equals n",
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** The prompts of a completion request, each a string or token ids. */
export function promptList(prompt: CompletionRequest["prompt"]): (string | number[])[] {
  if (typeof prompt === "string") return [prompt];
  if (prompt.length > 0 && typeof prompt[0] === "number") return [prompt as number[]];
  return prompt as (string | number[])[];
}

/**
 * What the scheduler takes for choice `index` (prompt i's choice j is i·n + j). A seeded request
 * seeds choice k with seed + k, so `n` choices differ and choice 0 equals the same request at n 1.
 */
export function completionParams(
  r: CompletionRequest,
  prompt: string | number[],
  index: number,
): GenerationParams {
  return {
    prompt,
    maxTokens: r.max_tokens,
    sampling: {
      temperature: r.temperature,
      topK: r.top_k,
      topP: r.top_p,
      repetitionPenalty: r.repetition_penalty,
    },
    seed: r.seed === null || r.seed === undefined ? undefined : r.seed + index,
    stop: r.stop,
    logprobs: r.logprobs ?? undefined,
    echo: r.echo ?? false,
  };
}

/** `POST /v1/embeddings`. */
export const EmbeddingRequest = z.object({
  model: z.string().max(1000).nullish(),
  input: texts,
  encoding_format: z.enum(["float", "base64"]).nullish().transform((v) => v ?? "float"),
  dimensions: z.number().nullish().refine((v) => v === null || v === undefined, "is not supported"),
  user: z.string().max(1000).nullish(),
}).strict();
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

/** Parses an OpenAI request body with `schema` (see {@linkcode parseRequest}). */
export function parseOpenAi<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  return parseRequest(schema, body, "body");
}
