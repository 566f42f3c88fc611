import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import type {
  GenerateRequestMessage,
  GenerateResponseMessage,
  GenerationClient,
} from "../../../worker/serve/client.ts";
import { startServerProcess } from "./_server.ts";

/** Runs a generation to the end; returns the responses. */
async function collect(
  client: GenerationClient,
  req: GenerateRequestMessage,
): Promise<GenerateResponseMessage[]> {
  const out: GenerateResponseMessage[] = [];
  for await (const r of client.generate(req)) out.push(r);
  return out;
}
const text = (rs: GenerateResponseMessage[]) => rs.map((r) => r.text).join("");
const ids = (rs: GenerateResponseMessage[]) => rs.flatMap((r) => r.token_ids);

async function waitFor<T>(probe: () => Promise<T>, ok: (t: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  let last = await probe();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    last = await probe();
  }
  return last;
}

Deno.test("generation server over real gRPC (max batch 4)", async (t) => {
  const server = await startServerProcess(["--max-batch", "4", "--max-queue", "16"]);
  const { client } = server;
  try {
    await t.step(
      "8 concurrent clients with different lengths and settings all finish, and batching changes no output",
      async () => {
        const requests: GenerateRequestMessage[] = Array.from({ length: 8 }, (_, i) => ({
          prompt: ["Hello", "Once upon a time", "é", "x", "", "The quick brown fox", "42", "ab"][i],
          max_tokens: 10 + 13 * i,
          ...(i % 2 === 0
            ? { temperature: 0 }
            : { temperature: 0.5 + i / 10, top_k: i * 8, top_p: 0.9, seed: 100 + i }),
          repetition_penalty: i % 3 === 0 ? 1.3 : 0,
        }));
        const together = await Promise.all(requests.map((r) => collect(client, r)));
        for (let i = 0; i < 8; i++) {
          const rs = together[i], last = rs.at(-1)!;
          assert(["FINISH_REASON_LENGTH", "FINISH_REASON_EOS"].includes(last.finish_reason));
          assertEquals(last.usage!.completion_tokens, ids(rs).length);
          if (last.finish_reason === "FINISH_REASON_LENGTH") {
            assertEquals(ids(rs).length, requests[i].max_tokens);
          }
          rs.slice(0, -1).forEach((r) =>
            assertEquals(r.finish_reason, "FINISH_REASON_UNSPECIFIED")
          );
          const whole = await client.call<{ text: string }>("Detokenize", { token_ids: ids(rs) });
          assertEquals(text(rs), whole.text);
        }
        // Each request alone gives the same tokens as in the batch of 8 (greedy and seeded).
        for (const i of [0, 3, 6, 7]) {
          assertEquals(ids(await collect(client, requests[i])), ids(together[i]));
        }
        const info = await client.call<{ active_slots: number; requests_completed: number }>(
          "ModelInfo",
        );
        assertEquals(info.active_slots, 0);
        assert(info.requests_completed >= 12);
      },
    );

    await t.step("a client that disconnects mid-stream frees its slot at once", async () => {
      let got = 0;
      for await (const _ of client.generate({ prompt: "long", max_tokens: 1000, temperature: 0 })) {
        if (++got === 3) break;
      }
      const info = await waitFor(
        () => client.call<{ active_slots: number; requests_cancelled: number }>("ModelInfo"),
        (i) => i.active_slots === 0 && i.requests_cancelled === 1,
      );
      assertEquals([info.active_slots, info.requests_cancelled], [0, 1]);
    });

    await t.step("a deadline that passes mid-stream ends the call and frees the slot", async () => {
      const long = async () => {
        const slow = client.generate({ prompt: "d", max_tokens: 1000, temperature: 0 }, {
          deadlineMs: 30,
        });
        for await (const _ of slow) await new Promise((r) => setTimeout(r, 10));
      };
      await rejects(long, (e: { code: number }) => e.code === grpc.status.DEADLINE_EXCEEDED);
      const info = await waitFor(
        () => client.call<{ active_slots: number; requests_cancelled: number }>("ModelInfo"),
        (i) => i.active_slots === 0 && i.requests_cancelled === 2,
      );
      assertEquals([info.active_slots, info.requests_cancelled], [0, 2]);
    });

    await t.step(
      "a stop sequence split across tokens ends the text before it, never sending any of it",
      async () => {
        const req = { prompt: "Stop me", max_tokens: 100, temperature: 1, seed: 5 };
        const free = text(await collect(client, req));
        // Byte tokens: any two printable ASCII characters are two tokens.
        const at = free.slice(4).search(/[ -~]{2}/) + 4;
        assert(at >= 4, `no ASCII pair in ${JSON.stringify(free)}`);
        const stop = free.slice(at, at + 2);
        const rs = await collect(client, { ...req, stop: [stop, "never-there"] });
        assertEquals(rs.at(-1)!.finish_reason, "FINISH_REASON_STOP");
        assertEquals(text(rs), free.slice(0, free.indexOf(stop)));
      },
    );

    await t.step(
      "a multi-byte character split across tokens is streamed whole, in one response",
      async () => {
        let found = "";
        for (let seed = 1; seed < 40 && !found; seed++) {
          const rs = await collect(client, {
            prompt: "café",
            max_tokens: 120,
            temperature: 1,
            seed,
          });
          const whole = await client.call<{ text: string }>("Detokenize", { token_ids: ids(rs) });
          assertEquals(text(rs), whole.text);
          // A response whose text holds a character of 2+ UTF-8 bytes, preceded by one that held
          // the character's first bytes back (empty text although it carried a token).
          for (let i = 1; i < rs.length && !found; i++) {
            const ch = [...rs[i].text].find((c) => c > "\u007f" && c !== "\uFFFD");
            if (ch && rs[i - 1].text === "" && rs[i].text.startsWith(ch)) found = ch;
          }
        }
        assert(found, "no multi-byte character generated in 40 seeds");
      },
    );

    await t.step(
      "the same seed reproduces a sampled generation; another seed does not",
      async () => {
        const req = {
          prompt: "seeded",
          max_tokens: 40,
          temperature: 0.9,
          top_k: 50,
          top_p: 0.95,
          seed: 77,
        };
        const a = ids(await collect(client, req)), b = ids(await collect(client, req));
        assertEquals(a, b);
        assert(a.join() !== ids(await collect(client, { ...req, seed: 78 })).join());
      },
    );

    await t.step("every bad parameter is refused with INVALID_ARGUMENT naming it", async () => {
      const bad: [Partial<GenerateRequestMessage>, string][] = [
        [{ temperature: -1 }, "temperature"],
        [{ temperature: 1000 }, "temperature"],
        [{ top_k: 1000 }, "top_k"],
        [{ top_p: 1.5 }, "top_p"],
        [{ top_p: -0.1 }, "top_p"],
        [{ repetition_penalty: -2 }, "repetition_penalty"],
        [{ max_tokens: 2_000_000 }, "max_tokens"],
        [{ stop: [""] }, "stop.0"],
        [{ stop: Array(17).fill("x") }, "stop"],
        [{ prompt: "x".repeat(1024) }, "prompt"],
      ];
      for (const [fields, name] of bad) {
        await rejects(
          collect(client, { prompt: "ok", ...fields }),
          (e: { code: number; details: string }) =>
            e.code === grpc.status.INVALID_ARGUMENT && e.details.startsWith(`${name}:`),
          `${JSON.stringify(fields).slice(0, 60)} should be refused naming ${name}`,
        );
      }
      await rejects(
        client.call("Detokenize", { token_ids: [1, 999] }),
        (e: { code: number; details: string }) => e.details.startsWith("token_ids.1:"),
      );
    });

    await t.step("Tokenize, Detokenize, Embed and ModelInfo answer", async () => {
      const tok = await client.call<{ token_ids: number[] }>("Tokenize", { text: "hé" });
      assertEquals(tok.token_ids, [104, 195, 169]);
      assertEquals(await client.call("Detokenize", { token_ids: tok.token_ids }), { text: "hé" });
      const emb = await client.call<{ tokens: { values: number[] }[]; mean: number[] }>("Embed", {
        text: "abc",
      });
      assertEquals([emb.tokens.length, emb.tokens[0].values.length, emb.mean.length], [
        3,
        128,
        128,
      ]);
      const info = await client.call<Record<string, unknown>>("ModelInfo");
      assertEquals(
        [info.vocab_size, info.context_length, info.max_batch, info.max_queue, info.name],
        [257, 1024, 4, 16, "random:tiny:3"],
      );
    });

    await t.step("health says SERVING and reflection lists the services", async () => {
      assertEquals(await client.health(), { status: "SERVING" });
      assertEquals(await client.health("denoformer.v1.Generation"), { status: "SERVING" });
      await rejects(
        client.health("nope"),
        (e: { code: number }) => e.code === grpc.status.NOT_FOUND,
      );
      assertEquals(
        (await listServices(server.address)).sort(),
        ["denoformer.v1.Generation", "grpc.health.v1.Health"],
      );
    });
  } finally {
    await server.stop();
  }
});

Deno.test("a full queue answers RESOURCE_EXHAUSTED and a missing API key UNAUTHENTICATED", async () => {
  const server = await startServerProcess([
    "--max-batch",
    "1",
    "--max-queue",
    "1",
    "--api-key",
    "s3cret",
  ]);
  try {
    const first = server.client.generate({ prompt: "a", max_tokens: 1000, temperature: 0 });
    await first.next(); // the first request holds the only slot
    const second = collect(server.client, { prompt: "b", max_tokens: 5 }); // waits in the queue
    await new Promise((r) => setTimeout(r, 50));
    await rejects(
      collect(server.client, { prompt: "c", max_tokens: 5 }),
      (e: { code: number }) => e.code === grpc.status.RESOURCE_EXHAUSTED,
    );
    for await (const _ of first);
    assertEquals(ids(await second).length, 5);

    const { GenerationClient } = await import("../../../worker/serve/client.ts");
    for (const apiKey of [undefined, "wrong"]) {
      const anonymous = new GenerationClient(server.address, { apiKey });
      await rejects(
        anonymous.call("ModelInfo"),
        (e: { code: number }) => e.code === grpc.status.UNAUTHENTICATED,
      );
      await rejects(
        collect(anonymous, { prompt: "x" }),
        (e: { code: number }) => e.code === grpc.status.UNAUTHENTICATED,
      );
      anonymous.close();
    }
  } finally {
    await server.stop();
  }
});

/** Asks the v1 reflection service for its service list, with the package's own .proto. */
async function listServices(address: string): Promise<string[]> {
  const path = new URL(
    "../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
    import.meta.url,
  ).pathname;
  const root = protobuf.loadSync(path);
  const Req = root.lookupType("grpc.reflection.v1.ServerReflectionRequest");
  const Res = root.lookupType("grpc.reflection.v1.ServerReflectionResponse");
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    (m: unknown) => Req.encode(Req.fromObject(m as object)).finish() as never,
    (b: Uint8Array) => Res.toObject(Res.decode(b)),
  );
  call.write({ listServices: "" });
  call.end();
  const names: string[] = [];
  for await (const r of call) {
    for (
      const s of (r as { listServicesResponse: { service: { name: string }[] } })
        .listServicesResponse.service
    ) {
      names.push(s.name);
    }
  }
  client.close();
  return names;
}
