/**
 * One failed step fails only its requests. The lever is honest, not a test switch: a model whose
 * vocabulary (200) is smaller than its tokenizer's (the byte codec's 257) accepts the prompt "€"
 * (bytes 226, 130, 172), and onnxruntime's Gather refuses the ids past the embedding table, as it
 * would for a checkpoint served with a mismatched tokenizer.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startServerProcess } from "./_server.ts";

Deno.test("a step the engine refuses fails only its request, with INTERNAL; the server goes on serving", async () => {
  const server = await startServerProcess(
    ["--max-batch", "2", "--http-port", "0"],
    ["--random-init", "tiny", "--vocab-size", "200", "--seed", "3", "--context", "1024"],
  );
  const { client } = server;
  try {
    // A generation in flight when the other request's prefill fails.
    const long = client.generate({ prompt: "abc", max_tokens: 300 });
    const first = await long.next();
    assert(!first.done);
    await rejects(
      (async () => {
        for await (const _ of client.generate({ prompt: "€", max_tokens: 5 }));
      })(),
      (e: { code: number; details: string }) =>
        e.code === grpc.status.INTERNAL && /^Internal error: .*Gather|indices/.test(e.details),
    );
    let tokens = first.value!.token_ids.length, finish = "";
    for await (const r of long) {
      tokens += r.token_ids.length;
      finish = r.finish_reason;
    }
    assertEquals([tokens, finish], [300, "FINISH_REASON_LENGTH"]);

    // The slots are free and consistent: two at once, twice over.
    for (let round = 0; round < 2; round++) {
      const runs = await Promise.all(["ab", "cd"].map(async (prompt) => {
        let n = 0;
        for await (const r of client.generate({ prompt, max_tokens: 5 })) n += r.token_ids.length;
        return n;
      }));
      assertEquals(runs, [5, 5]);
    }

    // The same over HTTP: a 500 in OpenAI's shape, then service as usual.
    const post = (prompt: string) =>
      fetch(`${server.http}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ prompt, max_tokens: 3 }),
      });
    const failed = await post("€");
    assertEquals([failed.status, (await failed.json()).error.type], [500, "server_error"]);
    assertEquals((await post("ok")).status, 200);

    assertEquals(await client.health(), { status: "SERVING" });
    const health = await (await fetch(`${server.http}/health`)).json();
    assertEquals([health.status, health.failed_requests, health.failed_steps], ["ok", 2, 2]);
    assert(/Gather|indices/.test(health.last_failure), health.last_failure);
  } finally {
    await server.stop();
  }
});
