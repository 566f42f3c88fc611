/**
 * Clients that go away mid-stream. The server runs in this process (a real Deno.serve on
 * 127.0.0.1 over a real engine), so Deno's test sanitizers also prove that no timer or other async
 * operation outlives it.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { InferenceEngine } from "../../../model/infer/mod.ts";
import { Registry } from "../../../model/metrics/mod.ts";
import { startHttpServer } from "../../../worker/serve/http_server.ts";
import { randomModel } from "../../../worker/serve/model_source.ts";
import { generationBackend } from "../../../worker/serve/serve.ts";

Deno.test("32 streaming HTTP clients, half of them leaving midway, leave no slot, stream or timer behind", async () => {
  const model = randomModel("tiny", { seed: 3, vocabSize: 257, contextLength: 1024 });
  const engine = await InferenceEngine.create(model.cfg, model.weights, {
    maxBatch: 8,
    threads: 1,
  });
  // A bare registry: prom-client's default process series would start a monitor of their own.
  const backend = generationBackend(model, engine, { registry: new Registry() });
  const { scheduler, metrics } = backend;
  const http = startHttpServer(backend, { host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${http.port}/v1/completions`;
  const complete = (body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(url, { method: "POST", body: JSON.stringify(body), signal });
  try {
    const outcomes = await Promise.all(Array.from({ length: 32 }, async (_, i) => {
      const leaves = i % 2 === 1, abort = new AbortController();
      const res = await complete({
        prompt: `client ${i}`,
        max_tokens: leaves ? 500 : 20,
        temperature: 0.8,
        seed: i,
        stream: true,
      }, abort.signal);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (true) {
        const { value, done } = await reader.read();
        if (done) return seen.endsWith("data: [DONE]\n\n") ? "finished" : "cut short";
        seen += value;
        if (leaves && seen.split("data: ").length > 4) {
          abort.abort();
          await reader.cancel().catch(() => {});
          return "left";
        }
      }
    }));
    assertEquals(outcomes, Array.from({ length: 32 }, (_, i) => i % 2 ? "left" : "finished"));
    // Leaving frees the slot at the next step boundary: wait for it (a hang guard, not a timing).
    for (let waited = 0; scheduler.stats().activeSlots && waited < 20_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const s = scheduler.stats();
    assertEquals([s.activeSlots, s.queueDepth, s.completed, s.cancelled, engine.active], [
      0,
      0,
      16,
      16,
      0,
    ]);
    const inProgress = await metrics.registry.getSingleMetric(
      "denoformer_http_requests_in_progress",
    )!.get();
    assertEquals(inProgress.values.map((v) => v.value), [0]);
    // And it keeps serving.
    const after = await complete({ prompt: "still there?", max_tokens: 5 });
    assertEquals([after.status, (await after.json()).usage.prompt_tokens], [200, 12]);
  } finally {
    await http.close();
  }
});
