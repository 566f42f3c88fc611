/**
 * `--allowed-origins` against a real server process, as a browser on another origin meets it: the
 * preflight (no API key, as browsers send none), then the request with the key; an origin not on
 * the list gets no CORS headers; a bad origin is refused at start, naming the flag.
 */
import assert from "node:assert/strict";
import { denoOutput } from "../../../model/subprocess.ts";
import { startServerProcess } from "./_server.ts";

const KEY = "s3cret";
const APP = "https://app.example.com";

Deno.test("a page of an allowed origin may call the HTTP API with the key; other origins may not", async (t) => {
  const server = await startServerProcess([
    ...["--http-port", "0", "--api-key", KEY, "--allowed-origins", `${APP}, http://localhost:5173`],
  ]);
  const preflight = (origin: string) =>
    fetch(`${server.http}/v1/completions`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
  const complete = (origin: string, key = KEY) =>
    fetch(`${server.http}/v1/completions`, {
      method: "POST",
      headers: { origin, authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "The", max_tokens: 3 }),
    });
  try {
    await t.step("the preflight of an allowed origin is answered without the key", async () => {
      const res = await preflight(APP);
      await res.body?.cancel();
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.equal(res.headers.get("vary"), "origin");
      assert.match(res.headers.get("access-control-allow-methods")!, /POST/);
      assert.match(res.headers.get("access-control-allow-headers")!, /authorization/);
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
    });

    await t.step("its request, with the key, is answered and readable by that origin", async () => {
      const res = await complete(APP);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.equal(body.choices.length, 1);
    });

    await t.step("the key is still required across origins", async () => {
      const res = await complete("http://localhost:5173", "wrong");
      await res.body?.cancel();
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    });

    await t.step(
      "another origin's preflight is refused and its answers carry no CORS headers",
      async () => {
        const pre = await preflight("https://evil.example");
        const error = await pre.json();
        assert.equal(pre.status, 403);
        assert.equal(error.error.code, "origin_not_allowed");
        assert.equal(pre.headers.get("access-control-allow-origin"), null);
        const res = await complete("https://evil.example");
        await res.body?.cancel();
        assert.equal(res.headers.get("access-control-allow-origin"), null);
      },
    );
  } finally {
    await server.stop();
  }
});

Deno.test("--allowed-origins refuses what is not an origin, naming the flag", async () => {
  for (const bad of ["https://app.example.com/", "app.example.com", " , "]) {
    const out = await denoOutput("worker/serve/serve_main.ts", [
      ...["--random-init", "tiny", "--port", "0", "--http-port", "0", "--allowed-origins", bad],
    ]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /--allowed-origins/);
  }
});
