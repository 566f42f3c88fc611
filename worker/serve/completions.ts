/**
 * `POST /v1/completions`: OpenAI's text completions over the scheduler. Each prompt × `n` choice is
 * one scheduled generation; they run in the same continuous batch, and a response (or a stream of
 * server-sent events) carries them all. A client that goes away cancels every choice at once,
 * which frees their cache slots at the next step boundary, as a cancelled gRPC stream does.
 */
import type { GenerationBackend } from "./backend.ts";
import { HttpError, toHttpError } from "./http_errors.ts";
import type { TokenLogprob } from "./logprobs.ts";
import { completionParams, type CompletionRequest, promptList } from "./openai_params.ts";
import type { GenerateChunk } from "./scheduler.ts";
import { type TextCodec, tokenText } from "./text_codec.ts";

/** The status recorded for a request whose client went away first (nginx's 499). */
const CLIENT_CLOSED = 499;

/** OpenAI's `logprobs` object of a completion choice (or of one streamed chunk of it). */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  /** Where each token's text begins in the choice's text, in Unicode code points. */
  text_offset: number[];
}

/**
 * Answers a validated completion request. Throws for a request refused before anything ran
 * (unknown model, prompt too long, queue full); later failures end the response with an error.
 * `done` is called with the HTTP status once the response (or its stream) has ended.
 */
export async function completions(
  b: GenerationBackend,
  r: CompletionRequest,
  signal: AbortSignal,
  done: (status: number) => void,
): Promise<Response> {
  checkModel(b, r.model);
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const release = () => signal.removeEventListener("abort", onAbort);
  const streams: AsyncIterable<GenerateChunk>[] = [];
  try {
    promptList(r.prompt).forEach((prompt, i) => {
      for (let j = 0; j < r.n; j++) {
        streams.push(b.scheduler.generate(completionParams(r, prompt, i * r.n + j), abort.signal));
      }
    });
  } catch (err) {
    abort.abort(); // frees the choices admitted before the one refused
    release();
    throw err;
  }
  const head = {
    id: `cmpl-${crypto.randomUUID().replaceAll("-", "")}`,
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: b.modelId,
  };
  const choices = streams.map(() => new Choice(b.codec, r.logprobs != null));
  if (r.stream) {
    return eventStream(b, head, streams, choices, r, abort, (status) => {
      release();
      done(status);
    });
  }
  try {
    await Promise.all(streams.map(async (stream, k) => {
      for await (const chunk of stream) choices[k].add(chunk);
    })).catch((err) => {
      abort.abort();
      throw err;
    });
  } finally {
    release();
  }
  done(signal.aborted ? CLIENT_CLOSED : 200);
  return Response.json({
    ...head,
    choices: choices.map((c, index) => ({
      index,
      text: c.text,
      logprobs: c.logprobs ?? null,
      finish_reason: c.finish,
    })),
    usage: usage(choices, r.n),
  });
}

/** Refuses a `model` other than the one served, as OpenAI and vLLM do (404, param `model`). */
export function checkModel(b: GenerationBackend, model: string | null | undefined): void {
  if (model && model !== b.modelId) {
    throw new HttpError(
      404,
      `The model "${model}" does not exist: this server serves "${b.modelId}"`,
      "model_not_found",
      "model",
    );
  }
}

/** Server-sent events: one `data:` chunk per piece of a choice, then usage if asked, then [DONE]. */
function eventStream(
  b: GenerationBackend,
  head: Record<string, unknown>,
  streams: AsyncIterable<GenerateChunk>[],
  choices: Choice[],
  r: CompletionRequest,
  abort: AbortController,
  done: (status: number) => void,
): Response {
  const encoder = new TextEncoder();
  let closed = false, status = 200;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (data: unknown) => {
        if (!closed) controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
      };
      const pumps = streams.map(async (stream, index) => {
        for await (const chunk of stream) {
          const delta = choices[index].add(chunk);
          // A chunk that only holds back part of a character adds nothing worth an event.
          if (!delta.text && !delta.logprobs && !chunk.finish) continue;
          const finish = chunk.finish ? choices[index].finish : null;
          send({
            ...head,
            choices: [{
              index,
              text: delta.text,
              logprobs: delta.logprobs ?? null,
              finish_reason: finish,
            }],
          });
        }
      });
      Promise.all(pumps).then(() => {
        if (r.stream_options?.include_usage) {
          send({ ...head, choices: [], usage: usage(choices, r.n) });
        }
      }, (err) => {
        abort.abort();
        const answer = toHttpError(err);
        status = answer.status;
        b.metrics.error("http", answer.grpcCode);
        send(answer.body);
      }).finally(() => {
        if (!closed) {
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
          closed = true;
        }
        done(status);
      });
    },
    cancel() {
      closed = true;
      status = CLIENT_CLOSED;
      abort.abort();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function usage(choices: Choice[], n: number) {
  const prompt = choices.reduce((a, c, k) => a + (k % n === 0 ? c.promptTokens : 0), 0);
  const completion = choices.reduce((a, c) => a + c.completionTokens, 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

/** One choice as it builds up: its text, finish reason, usage and OpenAI-shaped log-probabilities. */
class Choice {
  text = "";
  finish: "stop" | "length" | null = null;
  promptTokens = 0;
  completionTokens = 0;
  readonly logprobs?: CompletionLogprobs;
  readonly #codec: TextCodec;
  readonly #decoder = new TextDecoder();
  /** Code points of the choice's text so far, decoded from its tokens' bytes. */
  #chars = 0;

  constructor(codec: TextCodec, logprobs: boolean) {
    this.#codec = codec;
    if (logprobs) this.logprobs = emptyLogprobs();
  }

  /** Adds a chunk; returns the text and log-probabilities it adds. */
  add(c: GenerateChunk): { text: string; logprobs?: CompletionLogprobs } {
    this.text += c.text;
    if (c.finish) this.finish = c.finish === "length" ? "length" : "stop";
    if (c.usage) {
      this.promptTokens = c.usage.promptTokens;
      this.completionTokens = c.usage.completionTokens;
    }
    if (!c.logprobs || !this.logprobs) return { text: c.text };
    const delta = emptyLogprobs();
    c.tokenIds.forEach((id, i) => this.#addToken(delta, id, c.logprobs![i]));
    for (const key of Object.keys(delta) as (keyof CompletionLogprobs)[]) {
      (this.logprobs[key] as unknown[]).push(...delta[key]);
    }
    return { text: c.text, logprobs: delta };
  }

  #addToken(to: CompletionLogprobs, id: number, lp: TokenLogprob): void {
    const codec = this.#codec, text = tokenText(codec, id);
    to.tokens.push(text);
    to.token_logprobs.push(lp.logprob);
    // OpenAI lists the chosen token among the alternatives too: up to logprobs + 1 entries.
    to.top_logprobs.push(
      lp.logprob === null ? null : Object.fromEntries([
        ...lp.top.map((t) => [tokenText(codec, t.id), t.logprob]),
        [text, lp.logprob],
      ]),
    );
    to.text_offset.push(this.#chars);
    this.#chars += [...this.#decoder.decode(codec.decodeBytes([id]), { stream: true })].length;
  }
}

function emptyLogprobs(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}
