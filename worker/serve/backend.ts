/**
 * What a server serves, assembled once (serve.ts) and shared by the gRPC handlers, the HTTP API and
 * the playground's routes.
 */
import type { TokenEmbeddings } from "../../model/embeddings/mod.ts";
import type { InferenceEngine } from "../../model/infer/mod.ts";
import type { Scheduler } from "./scheduler.ts";
import type { ServeMetrics } from "./serve_metrics.ts";
import type { TextCodec } from "./text_codec.ts";

/** What the handlers serve; the gRPC and HTTP servers share one. */
export interface GenerationBackend {
  engine: InferenceEngine;
  scheduler: Scheduler;
  codec: TextCodec;
  metrics: ServeMetrics;
  /** Shown by ModelInfo, e.g. the checkpoint path. */
  name: string;
  /** The model's id in the OpenAI API (`/v1/models`, the `model` field). */
  modelId: string;
  device: string;
  /** When set, every call must carry it as `authorization: Bearer KEY` (gRPC: or `x-api-key`). */
  apiKey?: string;
  /** The token embedding table, for `POST /v1/neighbours` (neighbours.ts). */
  embeddings?: ServedEmbeddings;
}

/** The served model's token embeddings, and each token's id by its text. */
export interface ServedEmbeddings {
  /** Tokens are named as log-probability listings name them. */
  table: TokenEmbeddings;
  /** Token text → id, the lowest id where two tokens spell the same. */
  ids: Map<string, number>;
}
