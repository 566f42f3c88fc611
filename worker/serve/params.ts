/**
 * The gRPC requests as they arrive (proto field names; absent fields are zeros), validated once
 * with zod. Zeros mean "the default": top_p 0 → 1, repetition_penalty 0 → 1; an absent max_tokens
 * is 64. Checks that need the model (context, vocabulary) happen in the scheduler.
 */
import { z } from "zod";
import { InputError } from "../../model/errors.ts";
import { MAX_LOGPROBS } from "./logprobs.ts";
import type { GenerationParams } from "./scheduler.ts";

const wellFormed = (s: string) => s.isWellFormed();

/** A `Generate` request. */
export const GenerateRequest = z.object({
  prompt: z.string().max(1_000_000).refine(wellFormed, "must be well-formed Unicode"),
  prompt_token_ids: z.array(z.number().int().min(0)).max(1_000_000),
  max_tokens: z.number().int().min(0).max(1_000_000).optional(),
  temperature: z.number().min(0).max(100),
  top_k: z.number().int().min(0).max(1_000_000),
  top_p: z.number().min(0).max(1).transform((p) => p || 1),
  repetition_penalty: z.number().min(0).max(100).transform((p) => p || 1),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  stop: z.array(
    z.string().min(1).max(256).refine(wellFormed, "must be well-formed Unicode"),
  ).max(16),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).optional(),
  echo: z.boolean(),
}).refine((r) => !(r.prompt && r.prompt_token_ids.length), {
  path: ["prompt_token_ids"],
  message: "give the prompt as text or as token ids, not both",
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

/** What the scheduler takes for a validated `Generate` request. */
export function generationParams(r: GenerateRequest): GenerationParams {
  return {
    prompt: r.prompt_token_ids.length ? r.prompt_token_ids : r.prompt,
    maxTokens: r.max_tokens ?? 64,
    sampling: {
      temperature: r.temperature,
      topK: r.top_k,
      topP: r.top_p,
      repetitionPenalty: r.repetition_penalty,
    },
    seed: r.seed,
    stop: r.stop,
    logprobs: r.logprobs,
    echo: r.echo,
  };
}

/** An `Embed`, `Tokenize` request. */
export const TextRequest = z.object({ text: z.string().max(1_000_000) });

/** A `Detokenize` request. */
export const DetokenizeRequest = z.object({
  token_ids: z.array(z.number().int().min(0)).max(1_000_000),
});

/**
 * Parses `value` with `schema`, or throws an InputError naming the first field at fault: an
 * unknown field by its own name (as OpenAI does), `whole` when the value itself is wrong.
 */
export function parseRequest<T extends z.ZodType>(
  schema: T,
  value: unknown,
  whole = "request",
): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    throw new InputError(issue.keys[0], "unrecognized request argument supplied");
  }
  throw new InputError(issue.path.length ? issue.path.join(".") : whole, issue.message);
}
