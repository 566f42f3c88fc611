/**
 * `/metrics` after a known sequence of requests: every counter holds exactly what the responses
 * say happened, read with an independent Prometheus text parser.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import type { GenerateResponseMessage } from "../../../worker/serve/client.ts";
import { parsePrometheus, sampleValue } from "../../_prometheus.ts";
import { startServerProcess } from "./_server.ts";

interface Outcome {
  prompt: number;
  generated: number;
  finish: "length" | "stop" | "eos";
}

Deno.test("after a known sequence of requests, /metrics holds exactly the expected counts", async () => {
  const server = await startServerProcess([
    "--max-batch",
    "1",
    "--max-queue",
    "1",
    "--http-port",
    "0",
  ]);
  const { client } = server;
  const complete = (body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${server.http}/v1/completions`, { method: "POST", body: JSON.stringify(body), signal });
  const viaHttp = async (prompt: string, maxTokens: number): Promise<Outcome> => {
    const r = await (await complete({ prompt, max_tokens: maxTokens, temperature: 0 })).json();
    // OpenAI folds eos into "stop"; no stop sequence is set here, so "stop" means eos.
    const finish = r.choices[0].finish_reason === "length" ? "length" : "eos";
    return { prompt: r.usage.prompt_tokens, generated: r.usage.completion_tokens, finish };
  };
  const viaGrpc = async (stream: AsyncIterable<GenerateResponseMessage>): Promise<Outcome> => {
    let last: GenerateResponseMessage | undefined;
    for await (const r of stream) last = r;
    const finish = last!.finish_reason.replace("FINISH_REASON_", "")
      .toLowerCase() as Outcome["finish"];
    return {
      prompt: last!.usage!.prompt_tokens,
      generated: last!.usage!.completion_tokens,
      finish,
    };
  };
  const info = () => client.call<{ queue_depth: number; requests_cancelled: number }>("ModelInfo");
  const until = async (ok: (i: Awaited<ReturnType<typeof info>>) => boolean) => {
    for (let i = 0; i < 500 && !ok(await info()); i++) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    const done: Outcome[] = [];
    done.push(await viaHttp("abc", 5), await viaHttp("hello", 7));
    done.push(await viaGrpc(client.generate({ prompt: "xy", max_tokens: 4 })));
    const badHttp = await complete({ prompt: "x", temperature: 5 });
    assertEquals(badHttp.status, 400);
    await rejects(viaGrpc(client.generate({ prompt: "x", top_p: 1.5 })));

    // One long generation holds the only slot (greedy, it runs to its 1000 tokens, far longer
    // than the next steps take), one request waits, a third finds the queue full; the waiting
    // one's client leaves before it ever runs.
    const holder = client.generate({ prompt: "d", max_tokens: 1000 });
    assert(!(await holder.next()).done);
    const leaving = new AbortController();
    const waiting = complete({ prompt: "e", max_tokens: 2 }, leaving.signal).catch(() => "left");
    await until((i) => i.queue_depth === 1);
    assertEquals((await complete({ prompt: "f", max_tokens: 2 })).status, 429);
    leaving.abort();
    assertEquals(await waiting, "left");
    await until((i) => i.requests_cancelled === 1);
    done.push(await viaGrpc(holder));

    const m = parsePrometheus(await (await fetch(`${server.http}/metrics`)).text());
    const v = (name: string, labels: Record<string, string> = {}, field?: "count" | "sum") =>
      sampleValue(m, `denoformer_${name}`, labels, field);
    const sum = (f: (o: Outcome) => number) => done.reduce((a, o) => a + f(o), 0);
    // The cancelled request was admitted (its prompt counts) but generated nothing.
    assertEquals(v("prompt_tokens_total"), sum((o) => o.prompt) + 1);
    assertEquals(v("generation_tokens_total"), sum((o) => o.generated));
    for (const reason of ["length", "eos", "stop"]) {
      assertEquals(
        v("request_success_total", { finished_reason: reason }),
        done.filter((o) => o.finish === reason).length,
        reason,
      );
    }
    assertEquals(v("request_success_total", { finished_reason: "cancelled" }), 1);
    assertEquals(v("request_errors_total", { api: "http", code: "INVALID_ARGUMENT" }), 1);
    assertEquals(v("request_errors_total", { api: "grpc", code: "INVALID_ARGUMENT" }), 1);
    assertEquals(v("request_errors_total", { api: "http", code: "RESOURCE_EXHAUSTED" }), 1);
    assertEquals(
      v("time_to_first_token_seconds", {}, "count"),
      done.filter((o) => o.generated).length,
    );
    assertEquals(
      v("time_per_output_token_seconds", {}, "count"),
      sum((o) => Math.max(o.generated - 1, 0)),
    );
    assertEquals(v("e2e_request_latency_seconds", {}, "count"), done.length + 1);
    // One sequence per decode step (max batch 1): a step follows every token but each request's
    // last, and an eos comes from a step of its own.
    const steps = sum((o) => o.finish === "eos" ? o.generated : o.generated - 1);
    assertEquals([v("batch_size", {}, "count"), v("batch_size", {}, "sum")], [steps, steps]);
    assertEquals(v("http_requests_total", { handler: "/v1/completions", status: "200" }), 2);
    assertEquals(v("http_requests_total", { handler: "/v1/completions", status: "400" }), 1);
    assertEquals(v("http_requests_total", { handler: "/v1/completions", status: "429" }), 1);
    assertEquals(v("http_requests_total", { handler: "/v1/completions", status: "499" }), 1);
    assertEquals(
      ["num_requests_running", "num_requests_waiting", "kv_cache_slots_used", "kv_cache_slots"]
        .map((n) => v(n)),
      [0, 0, 0, 1],
    );
    assertEquals(v("failed_steps_total"), 0);
    assert(m.has("process_resident_memory_bytes"), "the default process series are there");
  } finally {
    await server.stop();
  }
});
