/**
 * Perplexity and bits per byte of a text through a server's log-probabilities: the text is
 * tokenized by the server, `<|endoftext|>` is put before it (so its first token is scored too, as
 * lm-evaluation-harness's rolling windows do), and windows of at most the context score every token
 * exactly once, each with the tokens before it in its window as context.
 *
 * @example
 * ```ts
 * const r = await textPerplexity(client, text, { window: 1024 });
 * console.log(r.perplexity, r.bitsPerByte);
 * ```
 */
import { InputError } from "../../model/errors.ts";
import type { GenerateResponseMessage, GenerationClient } from "./client.ts";

/** One request: tokens [start, end) of the sequence, scoring those from `scoreFrom` on. */
export interface ScoringWindow {
  start: number;
  end: number;
  scoreFrom: number;
}

/**
 * Windows over a sequence of `length` tokens whose first (`<|endoftext|>`) is context only. Each
 * window holds at most `window` tokens and scores the next `stride` unscored ones (fewer at the
 * end); `stride` below `window` − 1 gives each scored token more context at the cost of more
 * requests.
 */
export function scoringWindows(length: number, window: number, stride: number): ScoringWindow[] {
  if (stride < 1 || stride > window - 1) {
    throw new InputError(
      "--stride",
      `expected 1 to ${window - 1} (the window less one), got ${stride}`,
    );
  }
  const out: ScoringWindow[] = [];
  for (let scored = 1; scored < length; scored = out.at(-1)!.end) {
    const end = Math.min(scored + stride, length);
    out.push({ start: Math.max(0, end - window), end, scoreFrom: scored });
  }
  return out;
}

/** What an evaluation found. */
export interface PerplexityResult {
  /** Tokens scored (the text's, without the leading `<|endoftext|>`). */
  tokens: number;
  /** UTF-8 bytes of the text. */
  bytes: number;
  /** Σ −ln p over the scored tokens, in nats. */
  nll: number;
  /** exp(nll / tokens). */
  perplexity: number;
  /** nll / (ln 2 · bytes): comparable across tokenizers. */
  bitsPerByte: number;
  windows: number;
}

/** Scores `text` through `client`; `onWindow` hears of each window done. */
export async function textPerplexity(
  client: GenerationClient,
  text: string,
  options: { window?: number; stride?: number; concurrency?: number; onWindow?: () => void } = {},
): Promise<PerplexityResult> {
  const info = await client.call<{ context_length: number; end_of_text_id: number }>("ModelInfo");
  const window = Math.min(options.window ?? info.context_length, info.context_length);
  const ids = [info.end_of_text_id, ...await tokenize(client, text)];
  if (ids.length < 2) throw new InputError("--data", "holds no text to score");
  const windows = scoringWindows(ids.length, window, options.stride ?? window - 1);
  const nll = new Float64Array(windows.length);
  let next = 0;
  const worker = async () => {
    for (let w = next++; w < windows.length; w = next++) {
      nll[w] = await windowNll(client, ids, windows[w]);
      options.onWindow?.();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  const total = nll.reduce((a, x) => a + x, 0), tokens = ids.length - 1;
  const bytes = new TextEncoder().encode(text).length;
  return {
    tokens,
    bytes,
    nll: total,
    perplexity: Math.exp(total / tokens),
    bitsPerByte: total / (Math.LN2 * bytes),
    windows: windows.length,
  };
}

/** −Σ ln p of the window's scored tokens, from the echoed prompt's log-probabilities. */
async function windowNll(client: GenerationClient, ids: number[], w: ScoringWindow) {
  const request = {
    prompt_token_ids: ids.slice(w.start, w.end),
    max_tokens: 0,
    echo: true,
    logprobs: 0,
  };
  let echo: GenerateResponseMessage | undefined;
  for await (const r of client.generate(request)) if (r.echo) echo = r;
  if (!echo || echo.logprobs.length !== w.end - w.start) {
    throw new Error(
      `The server did not echo the ${w.end - w.start} tokens of a window with logprobs`,
    );
  }
  let nll = 0;
  for (let j = w.scoreFrom - w.start; j < echo.logprobs.length; j++) {
    nll -= echo.logprobs[j].logprob!;
  }
  return nll;
}

/** The server's tokens of `text`, sent in pieces under its request limit, split after newlines. */
async function tokenize(client: GenerationClient, text: string): Promise<number[]> {
  const ids: number[] = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + 500_000, text.length);
    if (end < text.length) end = text.lastIndexOf("\n", end) + 1 || end;
    const piece = await client.call<{ token_ids: number[] }>("Tokenize", {
      text: text.slice(at, end),
    });
    ids.push(...piece.token_ids);
    at = end;
  }
  return ids;
}
