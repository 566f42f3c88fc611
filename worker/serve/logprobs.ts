/**
 * Log-probabilities from logits: log-softmax in float64 of the model's raw logits (before
 * temperature, top-k, top-p or a repetition penalty, as vLLM's default `raw_logprobs`), the chosen
 * token's value and the `k` most likely alternatives. What evaluation needs: a prompt's
 * log-likelihood (echo) and perplexity.
 *
 * @example
 * ```ts
 * const lp = tokenLogprob(next.logits, token, 5); // { logprob: -2.31, top: [{ id, logprob }…] }
 * ```
 */
import { largest } from "./sampling.ts";

/** The most alternatives a request may ask for (OpenAI's limit for completions). */
export const MAX_LOGPROBS = 5;

/** One token's log-probability and the most likely tokens at its position. */
export interface TokenLogprob {
  /** ln p(token | what precedes it); null for a prompt's first token, which nothing predicts. */
  logprob: number | null;
  /** The `k` most likely tokens at this position, most likely first (ties: lower id first). */
  top: { id: number; logprob: number }[];
}

/** The log-probability of `token` under `logits` and the `k` most likely tokens. */
export function tokenLogprob(logits: Float32Array, token: number, k: number): TokenLogprob {
  const lse = logSumExp(logits);
  return {
    logprob: logits[token] - lse,
    top: largest(logits, k).map((id) => ({ id, logprob: logits[id] - lse })),
  };
}

/**
 * Each prompt token's log-probability from `logits` ([ids.length × vocab], row j scoring the token
 * after `ids[j]`); the first is null.
 */
export function promptLogprobs(
  logits: Float32Array,
  ids: readonly number[],
  k: number,
): TokenLogprob[] {
  const v = logits.length / ids.length;
  return ids.map((id, j) =>
    j === 0 ? { logprob: null, top: [] } : tokenLogprob(logits.subarray((j - 1) * v, j * v), id, k)
  );
}

/** ln Σ exp(x), in float64, shifted by the maximum so that nothing overflows. */
export function logSumExp(x: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  return max + Math.log(sum);
}
