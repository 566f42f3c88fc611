/**
 * `worker/serve/`: the inference worker and its client. A `Scheduler` runs one continuously
 * batched decode loop over an `InferenceEngine` (`model/infer/`); `startServer` puts it behind the
 * `denoformer.v1.Generation` gRPC service, health and reflection, and `startHttpServer` behind
 * OpenAI's completions API and Prometheus metrics (`ServeMetrics`); `GenerationClient` talks to
 * the gRPC side and `textPerplexity` measures perplexity through it.
 *
 * @example
 * ```ts
 * const model = await checkpointModel("runs/mine");
 * const client = new GenerationClient("127.0.0.1:50052");
 * for await (const chunk of client.generate({ prompt: "The licence", max_tokens: 20 })) {
 *   console.log(chunk.text);
 * }
 * ```
 */
export { GenerationClient } from "./client.ts";
export type {
  ClientOptions,
  GenerateRequestMessage,
  GenerateResponseMessage,
  TokenLogprobMessage,
} from "./client.ts";
export { checkpointModel, randomModel } from "./model_source.ts";
export type { ServedModel } from "./model_source.ts";
export { Scheduler } from "./scheduler.ts";
export type { FinishReason, GenerateChunk, SchedulerStats } from "./scheduler.ts";
export { startServer } from "./server.ts";
export { serveModel } from "./serve.ts";
export type { ServedServer, ServeOptions } from "./serve.ts";
export { startHttpServer } from "./http_server.ts";
export type { HttpListenOptions, RunningHttpServer } from "./http_server.ts";
export { ServeMetrics } from "./serve_metrics.ts";
export { textPerplexity } from "./perplexity.ts";
export type { PerplexityResult } from "./perplexity.ts";
export type { ListenOptions, RunningServer } from "./server.ts";
export { argmax, sampleToken, seededRandom } from "./sampling.ts";
