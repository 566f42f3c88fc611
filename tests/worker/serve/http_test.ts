/**
 * The HTTP API against a real server process, through the official `openai` npm client where it
 * applies and raw fetch where the client hides the wire (status codes, error bodies).
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import OpenAI from "openai";
import { InferenceEngine } from "../../../model/infer/mod.ts";
import { randomModel } from "../../../worker/serve/model_source.ts";
import { logSumExp } from "../../../worker/serve/logprobs.ts";
import type { GenerateResponseMessage } from "../../../worker/serve/client.ts";
import { startServerProcess } from "./_server.ts";

const KEY = "s3cret";
/** The served model, rebuilt here: `_server.ts` serves random tiny seed 3, vocab 257, context 1024. */
const model = () => randomModel("tiny", { seed: 3, vocabSize: 257, contextLength: 1024 });

Deno.test("the OpenAI API over HTTP (openai npm client, max batch 4)", async (t) => {
  const server = await startServerProcess([
    "--max-batch",
    "4",
    "--http-port",
    "0",
    "--api-key",
    KEY,
  ]);
  const openai = new OpenAI({ baseURL: `${server.http}/v1`, apiKey: KEY, maxRetries: 0 });
  const post = (path: string, body: unknown, key = KEY) =>
    fetch(`${server.http}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  try {
    await t.step("models lists the served model", async () => {
      const models = [];
      for await (const m of openai.models.list()) models.push(m.id);
      assertEquals(models, ["random:tiny:3"]);
    });

    await t.step("without --allowed-origins no answer carries CORS headers", async () => {
      const origin = "https://app.example.com";
      const pre = await fetch(`${server.http}/v1/completions`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
      await pre.body?.cancel();
      assertEquals(pre.status, 403);
      const res = await fetch(`${server.http}/v1/models`, {
        headers: { origin, authorization: `Bearer ${KEY}` },
      });
      await res.body?.cancel();
      assertEquals([res.status, res.headers.get("access-control-allow-origin")], [200, null]);
    });

    await t.step("greedy text over HTTP equals greedy text over gRPC", async () => {
      const prompt = "The quick brown fox";
      const res = await openai.completions.create({
        model: "random:tiny:3",
        prompt,
        max_tokens: 40,
        temperature: 0,
      });
      let grpc = "";
      const last: GenerateResponseMessage[] = [];
      for await (const r of server.client.generate({ prompt, max_tokens: 40 })) {
        grpc += r.text;
        last[0] = r;
      }
      assertEquals(res.choices[0].text, grpc);
      assert(grpc.length > 0);
      assertEquals(res.usage, {
        prompt_tokens: last[0].usage!.prompt_tokens,
        completion_tokens: last[0].usage!.completion_tokens,
        total_tokens: last[0].usage!.prompt_tokens + last[0].usage!.completion_tokens,
      });
      assertEquals(
        res.choices[0].finish_reason,
        last[0].finish_reason === "FINISH_REASON_LENGTH" ? "length" : "stop",
      );
    });

    await t.step(
      "streamed chunks concatenate to the non-streamed text, for every choice",
      async () => {
        const req = {
          model: "random:tiny:3",
          prompt: ["Once", "café"],
          max_tokens: 60,
          temperature: 0.9,
          seed: 11,
          n: 2,
        };
        const whole = await openai.completions.create(req);
        assertEquals(whole.choices.map((c) => c.index), [0, 1, 2, 3]);
        const texts = ["", "", "", ""];
        let usage;
        const finish: (string | null)[] = [];
        const stream = await openai.completions.create({
          ...req,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const chunk of stream) {
          for (const c of chunk.choices) {
            texts[c.index] += c.text;
            if (c.finish_reason) finish[c.index] = c.finish_reason;
          }
          if (chunk.usage) usage = chunk.usage;
        }
        assertEquals(texts, whole.choices.map((c) => c.text));
        assertEquals(finish, whole.choices.map((c) => c.finish_reason));
        assertEquals(usage, whole.usage);
        // Seeded choices differ from each other, and choice 0 is the same request at n 1.
        assert(new Set(texts).size === 4, JSON.stringify(texts));
        const one = await openai.completions.create({ ...req, prompt: "Once", n: 1 });
        assertEquals(one.choices[0].text, texts[0]);
      },
    );

    await t.step("embeddings equal the gRPC Embed mean", async () => {
      const res = await openai.embeddings.create({ model: "random:tiny:3", input: ["abc", "hé"] });
      for (const [i, text] of ["abc", "hé"].entries()) {
        const grpc = await server.client.call<{ mean: number[] }>("Embed", { text });
        const got = res.data[i].embedding;
        assertEquals(got.length, grpc.mean.length);
        assert(got.every((x, j) => Math.abs(x - grpc.mean[j]) < 1e-6));
      }
      assertEquals(res.usage, { prompt_tokens: 6, total_tokens: 6 });
    });

    await t.step(
      "with echo and max_tokens 0 the prompt's log-probabilities are log-softmax of the engine's logits",
      async () => {
        const prompt = "Perplexity of this prompt, é.";
        const res = await openai.completions.create({
          model: "random:tiny:3",
          prompt,
          max_tokens: 0,
          echo: true,
          logprobs: 3,
        });
        const c = res.choices[0], lp = c.logprobs!;
        assertEquals(c.text, prompt);
        const ids = Array.from(new TextEncoder().encode(prompt));
        assertEquals(lp.token_logprobs!.length, ids.length);
        assertEquals(lp.token_logprobs![0], null);
        // The reference: the engine's cached path, token by token, and log-softmax in float64.
        const { cfg, weights } = model();
        const engine = await InferenceEngine.create(cfg, weights, { maxBatch: 1, threads: 1 });
        let logits = (await engine.prefill(engine.acquire(), ids.slice(0, 1))).logits!;
        let worst = 0;
        for (let j = 1; j < ids.length; j++) {
          const expected = logits[ids[j]] - logSumExp(logits);
          worst = Math.max(worst, Math.abs(lp.token_logprobs![j]! - expected));
          const top = Object.values(lp.top_logprobs![j]!);
          assert(
            top.length >= 3 && top.length <= 4 &&
              top.every((v) => v <= Math.max(...logits) - logSumExp(logits) + 1e-4),
          );
          logits = (await engine.decode([ids[j]]))[0].logits!;
        }
        console.log(`max |served - engine| prompt log-probability: ${worst.toExponential(2)}`);
        assert(worst < 1e-4, `log-probabilities differ by ${worst}`);
        // "é" is two byte tokens: both begin where the character does; "." one code point later.
        assertEquals(lp.text_offset!.slice(-3), [
          prompt.length - 2,
          prompt.length - 2,
          prompt.length - 1,
        ]);
        assertEquals(res.usage?.completion_tokens, 0);
      },
    );

    await t.step(
      "a generated token's log-probability heads its alternatives when decoding is greedy",
      async () => {
        const res = await openai.completions.create({
          model: "random:tiny:3",
          prompt: "ab",
          max_tokens: 6,
          temperature: 0,
          logprobs: 2,
        });
        const lp = res.choices[0].logprobs!;
        assertEquals(lp.tokens!.length, 6);
        lp.token_logprobs!.forEach((v, i) =>
          assertEquals(v, Math.max(...Object.values(lp.top_logprobs![i]!)))
        );
      },
    );

    await t.step(
      "a bad field, a wrong key, an over-long prompt, a huge body, an unknown route or model: status and error body",
      async () => {
        const cases: [Response, number, string | null, string][] = [
          [
            await post("/v1/completions", { prompt: "x", temperature: 5 }),
            400,
            "temperature",
            "invalid_value",
          ],
          [
            await post("/v1/completions", { prompt: "x", logprobs: 6 }),
            400,
            "logprobs",
            "invalid_value",
          ],
          [
            await post("/v1/completions", { prompt: "x", frobnicate: 1 }),
            400,
            "frobnicate",
            "invalid_value",
          ],
          [await post("/v1/completions", "{not json"), 400, null, "invalid_json"],
          [await post("/v1/completions", { prompt: "x" }, "wrong"), 401, null, "invalid_api_key"],
          [
            await post("/v1/completions", { prompt: "x".repeat(1024) }),
            400,
            "prompt",
            "context_length_exceeded",
          ],
          [await post("/v1/embeddings", { input: "" }), 400, "input", "invalid_value"],
          [
            await post("/v1/completions", { prompt: "x".repeat(9 << 20) }),
            413,
            null,
            "request_too_large",
          ],
          [
            await post("/v1/completions", { prompt: "x", model: "gpt-4" }),
            404,
            "model",
            "model_not_found",
          ],
          [await post("/v1/chat/completions", { messages: [] }), 404, null, "unknown_url"],
        ];
        for (const [res, status, param, code] of cases) {
          const body = await res.json();
          assertEquals([res.status, body.error.param, body.error.code], [status, param, code]);
          assert(typeof body.error.message === "string" && typeof body.error.type === "string");
        }
        // The client surfaces the same: status, param and code.
        await rejects(
          openai.completions.create({ model: "random:tiny:3", prompt: "x", top_p: 2 }),
          (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.param === "top_p",
        );
        const stranger = new OpenAI({
          baseURL: `${server.http}/v1`,
          apiKey: "nope",
          maxRetries: 0,
        });
        await rejects(
          stranger.models.list(),
          (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401,
        );
        // Health and metrics need no key.
        assertEquals((await fetch(`${server.http}/health`)).status, 200);
        const metrics = await fetch(`${server.http}/metrics`);
        assert(metrics.ok && (await metrics.text()).includes("denoformer_num_requests_running"));
      },
    );
  } finally {
    await server.stop();
  }
});
