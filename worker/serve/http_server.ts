/**
 * The HTTP front door beside gRPC: OpenAI's completions, embeddings and models routes, our
 * `/v1/neighbours`, `/health`, Prometheus `/metrics` and the playground page (playground.ts), over
 * the same backend (engine, scheduler, limits and API key) as the gRPC server. Handlers are thin:
 * read and validate the body, call the domain code, and map every error in one place
 * (http_errors.ts). The API key, when set, guards the `/v1/` routes (as a bearer header, or the
 * playground's session cookie) and the playground page, as in vLLM, so health checks and scrapers
 * need none.
 *
 * @example
 * ```ts
 * const http = startHttpServer(backend, { host: "127.0.0.1", port: 8000 });
 * // curl http://127.0.0.1:8000/v1/completions -d '{"prompt": "The", "max_tokens": 20}'
 * ```
 */
import { Buffer } from "node:buffer";
import { metricsResponse } from "../../model/metrics/mod.ts";
import { serveHttp } from "../../model/web/mod.ts";
import { checkApiKey } from "./api_key.ts";
import { checkModel, completions } from "./completions.ts";
import { CorsPolicy } from "./cors.ts";
import { embedTokens } from "./embedding.ts";
import type { GenerationBackend } from "./backend.ts";
import { errorResponse, HttpError, toHttpError } from "./http_errors.ts";
import { neighbours } from "./neighbours.ts";
import { CompletionRequest, EmbeddingRequest, parseOpenAi, promptList } from "./openai_params.ts";
import { Playground } from "./playground.ts";

/** Where and how to listen. */
export interface HttpListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Larger request bodies are refused with 413 (default 8 MiB). */
  maxBodyBytes?: number;
  /** Origins whose browser pages may call the API (see cors.ts); none by default. */
  allowedOrigins?: readonly string[];
}

/** A running HTTP server. */
export interface RunningHttpServer {
  readonly port: number;
  /** Stops accepting requests; resolves once the ones in flight have ended. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

type Route = (req: Request, done: (status: number) => void) => Promise<Response> | Response;

/** Starts serving `backend` over HTTP; returns once the port is bound. */
export function startHttpServer(
  b: GenerationBackend,
  listen: HttpListenOptions,
): RunningHttpServer {
  const maxBody = listen.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const created = Math.floor(Date.now() / 1000);
  const routes: Record<string, Route> = {
    "POST /v1/completions": async (req, done) => {
      const r = parseOpenAi(CompletionRequest, await readJson(req, maxBody));
      return await completions(b, r, req.signal, done);
    },
    "POST /v1/embeddings": async (req) => await embeddings(b, await readJson(req, maxBody)),
    "POST /v1/neighbours": async (req) => neighbours(b, await readJson(req, maxBody)),
    "GET /v1/models": () => Response.json({ object: "list", data: [modelCard(b, created)] }),
    "GET /health": () => health(b),
    "GET /metrics": () => metricsResponse(b.metrics.registry),
  };
  const playground = new Playground(b.apiKey);
  const cors = new CorsPolicy(listen.allowedOrigins);
  const server = serveHttp(
    { host: listen.host, port: listen.port, flag: "--http-port" },
    async (req) =>
      cors.preflight(req) ?? cors.apply(req, await answer(b, routes, playground, req, created)),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

async function answer(
  b: GenerationBackend,
  routes: Record<string, Route>,
  playground: Playground,
  req: Request,
  created: number,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  const route = routes[`${req.method} ${path}`] as Route | undefined;
  const handler = route
    ? path
    : path.startsWith("/v1/models/")
    ? "/v1/models/{id}"
    : playground.owns(path)
    ? "/playground"
    : "other";
  const done = b.metrics.httpStarted(handler);
  try {
    if (path.startsWith("/v1/") && !playground.access.allows(req)) {
      checkApiKey(b.apiKey, req.headers.get("authorization") ?? undefined);
    }
    if (handler === "/playground") {
      const res = await playground.answer(req);
      done(res.status);
      return res;
    }
    if (route) {
      const res = await route(req, done);
      // A stream calls `done` itself when it ends; every other route has ended here.
      if (res.headers.get("content-type") !== "text/event-stream") done(res.status);
      return res;
    }
    if (req.method === "GET" && handler === "/v1/models/{id}") {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      checkModel(b, id);
      done(200);
      return Response.json(modelCard(b, created));
    }
    throw new HttpError(404, `Invalid URL (${req.method} ${path})`, "unknown_url");
  } catch (err) {
    const answer = toHttpError(err);
    b.metrics.error("http", answer.grpcCode);
    done(answer.status);
    return errorResponse(answer);
  }
}

/** The body as JSON, refusing more than `limit` bytes (413) before reading them all. */
async function readJson(req: Request, limit: number): Promise<unknown> {
  const tooLarge = () =>
    new HttpError(413, `The request body is larger than ${limit} bytes`, "request_too_large");
  if (Number(req.headers.get("content-length") ?? 0) > limit) throw tooLarge();
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of req.body ?? []) {
    size += part.length;
    if (size > limit) throw tooLarge();
    parts.push(part);
  }
  try {
    return JSON.parse(new TextDecoder().decode(Buffer.concat(parts)));
  } catch (err) {
    throw new HttpError(
      400,
      `The body is not valid JSON: ${(err as Error).message}`,
      "invalid_json",
    );
  }
}

async function embeddings(b: GenerationBackend, body: unknown): Promise<Response> {
  const r = parseOpenAi(EmbeddingRequest, body);
  checkModel(b, r.model);
  const inputs = promptList(r.input);
  const data = [];
  let tokens = 0;
  for (const [index, input] of inputs.entries()) {
    const ids = typeof input === "string" ? b.codec.encode(input) : input;
    const field = Array.isArray(r.input) && inputs.length > 1 ? `input.${index}` : "input";
    const { mean } = await embedTokens(b.engine, ids, field);
    tokens += ids.length;
    const embedding = r.encoding_format === "base64"
      ? Buffer.from(mean.buffer, mean.byteOffset, mean.byteLength).toString("base64")
      : Array.from(mean);
    data.push({ object: "embedding", index, embedding });
  }
  return Response.json({
    object: "list",
    data,
    model: b.modelId,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function modelCard(b: GenerationBackend, created: number) {
  return {
    id: b.modelId,
    object: "model",
    created,
    owned_by: "denoformer",
    max_model_len: b.engine.cfg.contextLength,
  };
}

/** 200 while serving; the decode loop's failures so far are reported, not hidden. */
function health(b: GenerationBackend): Response {
  const s = b.scheduler.stats();
  return Response.json({
    status: "ok",
    running: s.activeSlots,
    waiting: s.queueDepth,
    failed_requests: s.failed,
    failed_steps: s.failedSteps,
    last_failure: s.lastFailure ?? null,
  });
}
