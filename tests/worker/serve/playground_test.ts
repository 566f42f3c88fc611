/**
 * The playground in a real browser (Debian's Chromium under puppeteer-core) against a real server
 * process with an API key: refusals without the key, a completion streamed into the page whose
 * text is the API's for the same request, log-probabilities on each token, and the nearest
 * neighbours of a token's embedding checked against cosine similarities computed here from the
 * same seeded weights. Every request the page makes goes to the server.
 */
import assert from "node:assert/strict";
import type { HTTPRequest, Page } from "puppeteer-core";
import { randomModel } from "../../../worker/serve/mod.ts";
import { launchChromium } from "../../../tools/headless_browser.ts";
import { signIn } from "../../_browser.ts";
import { startServerProcess } from "./_server.ts";

const KEY = "playground-key";
/** The model _server.ts serves, rebuilt here for the independent neighbour computation. */
const MODEL = { seed: 3, vocabSize: 257, contextLength: 1024 };

Deno.test({
  name:
    "the playground in Chromium: signs in with the API key, streams a completion equal to the API's, shows log-probabilities and embedding neighbours, and loads nothing from elsewhere",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const server = await startServerProcess(["--http-port", "0", "--api-key", KEY]);
  const browser = await launchChromium();
  const steps = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
  const requests: HTTPRequest[] = [];
  try {
    const page = await browser.newPage();
    page.on("request", (r) => requests.push(r));
    const url = `${server.http}/playground`;

    await t.step({
      ...steps,
      name: "a missing or wrong key is refused, by the API and by the page",
      fn: async () => {
        const completions = `${server.http}/v1/completions`;
        const body = JSON.stringify({ prompt: "a", max_tokens: 2 });
        for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
          const res = await fetch(completions, { method: "POST", body, headers });
          assert.equal(res.status, 401);
          assert.match((await res.json()).error.message, /(Missing|Wrong) API key/);
        }
        const forged = await fetch(`${server.http}/v1/models`, {
          headers: { cookie: "denoformer_playground=forged" },
        });
        assert.equal(forged.status, 401, "a made-up session cookie");
        const loaded = await page.goto(url);
        assert.equal(loaded!.status(), 401);
        assert.ok(await page.$("form.login input[name=token]"), "the login form");
        await signIn(page, "wrong");
        assert.match(await page.$eval(".error", (e) => e.textContent!), /Wrong API key/);
        assert.equal(await page.$("#prompt"), null, "no playground without the key");
        await signIn(page, KEY);
        await page.waitForSelector("#prompt");
        const cookie = (await page.cookies()).find((c) => c.name === "denoformer_playground")!;
        assert.ok(cookie.httpOnly && cookie.sameSite === "Strict", "an HttpOnly, SameSite cookie");
        assert.ok(!cookie.value.includes(KEY), "the cookie does not hold the key");
      },
    });

    await t.step({
      ...steps,
      name: "a completion streams into the page token by token; its text is the API's",
      fn: async () => {
        await page.waitForFunction(`document.getElementById("model").textContent !== "…"`);
        await setValue(page, "#prompt", "The licence ");
        await setValue(page, "#temperature", "0.7");
        await setValue(page, "#top_k", "30");
        await setValue(page, "#top_p", "0.9");
        await setValue(page, "#max_tokens", "48");
        await setValue(page, "#seed", "11");
        await setValue(page, "#stop", "zz");
        // Count how often the page redrew with more tokens before the stream ended.
        await page.evaluate(`
          globalThis.redraws = [];
          new MutationObserver(() => {
            const n = document.querySelectorAll("#completion .token").length;
            if (n !== redraws.at(-1)) redraws.push(n);
          }).observe(document.getElementById("completion"), { childList: true });
        `);
        const sent = page.waitForRequest((r) => r.url().endsWith("/v1/completions"));
        await page.click("#generate");
        const request = JSON.parse((await sent).postData()!);
        await page.waitForFunction("playground.requests > 0");
        assert.deepEqual(
          request,
          {
            prompt: "The licence ",
            max_tokens: 48,
            temperature: 0.7,
            top_k: 30,
            top_p: 0.9,
            logprobs: 5,
            stream: true,
            stop: ["zz"],
            seed: 11,
          },
          "the sliders and fields are the request",
        );
        const shown = await page.$eval("#completion", (e) => e.textContent!);
        const api = await complete(server.http, { ...request, stream: false });
        const choice = api.choices[0];
        console.log(`streamed ${JSON.stringify(shown)}`);
        assert.equal(shown, choice.text, "the page shows the API's text for the same request");
        assert.ok(shown.length > 0);
        const redraws = await page.evaluate("redraws") as number[];
        assert.ok(redraws.length > 2, `drawn as it streamed: token counts ${redraws}`);
        const titles = await page.$$eval(
          "#completion .token",
          (s) => s.map((e) => e.getAttribute("title")!),
        );
        assert.equal(titles.length, choice.logprobs.tokens.length, "a span per token");
        titles.forEach((title, i) => {
          const logprob = choice.logprobs.token_logprobs[i].toFixed(3);
          assert.ok(title.includes(`log-probability ${logprob}`), `token ${i}: ${title}`);
        });
      },
    });

    await t.step({
      ...steps,
      name: "clicking a token lists the tokens nearest its embedding, as computed here",
      fn: async () => {
        // A token of plain ASCII, so its id is its byte.
        const index = await page.$$eval(
          "#completion .token",
          (spans) => spans.findIndex((s) => /^[ -~]$/.test(s.textContent!)),
        );
        assert.ok(index >= 0, "the completion has an ASCII token");
        const text = await page.$eval(`.token[data-index="${index}"]`, (e) => e.textContent!);
        await page.click(`.token[data-index="${index}"]`);
        await page.waitForSelector("#neighbours li .num");
        const shown = await page.$$eval(
          "#neighbours li",
          (items) =>
            items.map((
              li,
            ) => [li.querySelector(".mono")!.textContent, li.querySelector(".num")!.textContent]),
        );
        const expected = nearestByBruteForce(text.charCodeAt(0), 10);
        assert.deepEqual(
          shown,
          expected.map(({ id, score }) => [quoted(id), score.toFixed(3)]),
          `neighbours of ${JSON.stringify(text)}`,
        );
        const api = await fetch(`${server.http}/v1/neighbours`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ input: text, k: 10 }),
        }).then((r) => r.json());
        assert.deepEqual(api.input.ids, [text.charCodeAt(0)]);
        api.data.forEach((n: { id: number; score: number }, i: number) => {
          assert.equal(n.id, expected[i].id);
          assert.ok(
            Math.abs(n.score - expected[i].score) < 1e-12,
            `${n.score} ${expected[i].score}`,
          );
        });
      },
    });

    const outside = requests.map((r) => r.url()).filter((u) =>
      !u.startsWith(`${server.http}/`) && !u.startsWith("data:")
    );
    assert.deepEqual(outside, [], "every request went to the server");
    console.log(`${requests.length} requests, all to ${server.http}`);
  } finally {
    await browser.close();
    await server.stop();
  }
});

/** Sets a form field as a person would, so the page hears an input event. */
async function setValue(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (e, v) => {
    (e as unknown as { value: string }).value = v;
    e.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);
}

async function complete(http: string, body: unknown) {
  const res = await fetch(`${http}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return await res.json();
}

/** The `k` token ids whose embedding rows are nearest row `id` by cosine, computed in float64. */
function nearestByBruteForce(id: number, k: number): { id: number; score: number }[] {
  const { cfg, weights } = randomModel("tiny", MODEL);
  const wte = weights.get("transformer.wte.weight")!.data, w = cfg.width;
  const row = (i: number) => Array.from(wte.subarray(i * w, (i + 1) * w));
  const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  const q = row(id), qn = norm(q);
  const scored = [];
  for (let i = 0; i < cfg.vocabSize; i++) {
    if (i === id) continue;
    const r = row(i);
    scored.push({ id: i, score: r.reduce((a, x, j) => a + x * q[j], 0) / (norm(r) * qn) });
  }
  return scored.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
}

/** A token of the byte codec as the page quotes it. */
function quoted(id: number): string {
  if (id === 256) return "“<|endoftext|>”";
  if (id >= 0x80) return `“bytes:\\x${id.toString(16).padStart(2, "0")}”`;
  const c = String.fromCharCode(id);
  const escapes: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r" };
  return `“${
    id < 0x20 || id === 0x7f ? escapes[c] ?? `\\u${id.toString(16).padStart(4, "0")}` : c
  }”`;
}
