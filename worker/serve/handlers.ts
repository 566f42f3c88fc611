/**
 * The Generation service's handlers: validate the request, call the scheduler or engine, map
 * errors in one place. No domain logic lives here.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../model/errors.ts";
import {
  DetokenizeRequest,
  GenerateRequest,
  generationParams,
  parseRequest,
  TextRequest,
} from "./params.ts";
import { toGrpcError, UndecodableMessage } from "../../proto/mod.ts";
import { checkApiKey } from "./api_key.ts";
import { embedTokens } from "./embedding.ts";
import type { TokenLogprob } from "./logprobs.ts";
import type { GenerationBackend } from "./backend.ts";
import type { GenerateChunk } from "./scheduler.ts";
import { checkTokenIds, type TextCodec, tokenText } from "./text_codec.ts";

type Unary = (
  call: grpc.ServerUnaryCall<unknown, unknown>,
  cb: grpc.sendUnaryData<unknown>,
) => void;

/** The handler map for `denoformer.v1.Generation`. */
export function generationHandlers(b: GenerationBackend): grpc.UntypedServiceImplementation {
  const unary =
    (fn: (request: unknown) => Promise<unknown> | unknown): Unary => async (call, cb) => {
      try {
        authorize(b, call.metadata);
        cb(null, await fn(decoded(call.request)));
      } catch (err) {
        cb(refuse(b, err));
      }
    };
  return {
    Generate: (call: grpc.ServerWritableStream<unknown, unknown>) => generate(b, call),
    Embed: unary(async (request) => {
      const ids = b.codec.encode(parseRequest(TextRequest, request).text);
      const e = await embedTokens(b.engine, ids, "text");
      return {
        token_ids: ids,
        tokens: e.tokens.map((row) => ({ values: Array.from(row) })),
        mean: Array.from(e.mean),
      };
    }),
    Tokenize: unary((request) => ({
      token_ids: b.codec.encode(parseRequest(TextRequest, request).text),
    })),
    Detokenize: unary((request) => {
      const ids = parseRequest(DetokenizeRequest, request).token_ids;
      checkTokenIds(ids, b.codec.vocabSize, "token_ids");
      return { text: new TextDecoder().decode(b.codec.decodeBytes(ids)) };
    }),
    ModelInfo: unary(() => {
      const cfg = b.engine.cfg, s = b.scheduler.stats();
      return {
        name: b.name,
        vocab_size: cfg.vocabSize,
        context_length: cfg.contextLength,
        layers: cfg.layers,
        heads: cfg.heads,
        width: cfg.width,
        device: b.device,
        max_batch: s.maxBatch,
        max_queue: s.maxQueue,
        active_slots: s.activeSlots,
        queue_depth: s.queueDepth,
        requests_completed: s.completed,
        requests_cancelled: s.cancelled,
        end_of_text_id: b.codec.endOfTextId,
      };
    }),
  };
}

async function generate(
  b: GenerationBackend,
  call: grpc.ServerWritableStream<unknown, unknown>,
): Promise<void> {
  const abort = new AbortController();
  call.on("cancelled", () => abort.abort());
  try {
    authorize(b, call.metadata);
    const req = parseRequest(GenerateRequest, decoded(call.request));
    for await (const chunk of b.scheduler.generate(generationParams(req), abort.signal)) {
      if (abort.signal.aborted) break;
      call.write(toResponse(b.codec, chunk));
    }
    call.end();
  } catch (err) {
    call.emit("error", refuse(b, err));
  }
}

/** The gRPC status for `err`, counted in the metrics. */
function refuse(b: GenerationBackend, err: unknown) {
  const status = toGrpcError(err);
  b.metrics.error("grpc", grpc.status[status.code]);
  return status;
}

function toResponse(codec: TextCodec, c: GenerateChunk) {
  return {
    text: c.text,
    token_ids: c.tokenIds,
    finish_reason: c.finish
      ? `FINISH_REASON_${c.finish.toUpperCase()}`
      : "FINISH_REASON_UNSPECIFIED",
    usage: c.usage
      ? { prompt_tokens: c.usage.promptTokens, completion_tokens: c.usage.completionTokens }
      : undefined,
    logprobs: c.logprobs?.map((lp, i) => logprobMessage(codec, c.tokenIds[i], lp)),
    echo: c.echo ?? false,
  };
}

function logprobMessage(codec: TextCodec, id: number, lp: TokenLogprob) {
  return {
    logprob: lp.logprob ?? undefined,
    token: tokenText(codec, id),
    top: lp.top.map((t) => ({ token_id: t.id, logprob: t.logprob, token: tokenText(codec, t.id) })),
  };
}

function decoded(request: unknown): unknown {
  if (request instanceof UndecodableMessage) {
    throw new InputError("request", `cannot be decoded: ${request.reason}`);
  }
  return request;
}

function authorize(b: GenerationBackend, metadata: grpc.Metadata): void {
  const presented = metadata.get("authorization")[0] ?? metadata.get("x-api-key")[0];
  checkApiKey(b.apiKey, presented === undefined ? undefined : String(presented));
}
