/**
 * model/web's WebAccess on real Request objects: the secret as a bearer header, the session cookie
 * the login form and a `?token=` link set, what a wrong or missing secret gets, and the paths a
 * sign-in may return to.
 */
import assert from "node:assert/strict";
import { WebAccess } from "../../model/web/mod.ts";

const access = new WebAccess({
  secret: "s3cret",
  cookie: "session",
  what: "job token",
  stylesheet: "/style.css",
});
const at = (path: string, init?: RequestInit) => new Request(`http://127.0.0.1:9/${path}`, init);
const form = (fields: Record<string, string>) =>
  at("login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

/** The `name=value` pair a response's Set-Cookie sets. */
function cookieOf(res: Response): string {
  return res.headers.get("set-cookie")!.split(";")[0];
}

Deno.test("the secret is accepted as a bearer header, nothing else is", () => {
  assert.ok(access.allows(at("", { headers: { authorization: "Bearer s3cret" } })));
  for (const authorization of ["Bearer wrong", "s3cret", "Basic czNjcmV0"]) {
    assert.ok(!access.allows(at("", { headers: { authorization } })), authorization);
  }
  assert.ok(!access.allows(at("")));
  assert.ok(!access.allows(at("", { headers: { cookie: "session=s3cret" } })), "not the secret");
  const open = new WebAccess({ cookie: "c", what: "key", stylesheet: "/s.css" });
  assert.ok(open.allows(at("")) && !open.required, "without a secret, everyone");
});

Deno.test("the login form sets an HttpOnly, SameSite=Strict session cookie that is not the secret", async () => {
  const res = (await access.answer(form({ token: "s3cret", next: "/runs?x=1" })))!;
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/runs?x=1");
  const setCookie = res.headers.get("set-cookie")!;
  assert.match(setCookie, /; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.ok(!setCookie.includes("s3cret"));
  assert.ok(access.allows(at("", { headers: { cookie: `other=1; ${cookieOf(res)}` } })));
  const forged = cookieOf(res).slice(0, -2) + "xx";
  assert.ok(!access.allows(at("", { headers: { cookie: forged } })));
});

Deno.test("a wrong secret gets the form again, saying so; a missing one is told what to send", async () => {
  const res = (await access.answer(form({ token: "nope", next: "/" })))!;
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("set-cookie"), null);
  assert.match(await res.text(), /Wrong job token[\s\S]*name="token"/);
  const refused = access.refuse(at("api"));
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("www-authenticate"), "Bearer");
  assert.match((await refused.json()).error, /^Missing job token: sign in, or send it as/);
  const wrong = access.refuse(at("api", { headers: { authorization: "Bearer x" } }));
  assert.match((await wrong.json()).error, /^Wrong job token/);
});

Deno.test("a ?token= link signs in and returns to the same URL without the token", async () => {
  const res = (await access.answer(at("?token=s3cret&run=2")))!;
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/?run=2");
  assert.ok(access.allows(at("", { headers: { cookie: cookieOf(res) } })));
  const wrong = (await access.answer(at("page?token=bad")))!;
  assert.equal(wrong.status, 401);
  assert.equal(await access.answer(at("page")), undefined, "other requests are not its business");
});

Deno.test("a sign-in returns only to a path of this server, and refuses a body larger than a form", async () => {
  for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "page"]) {
    const res = (await access.answer(form({ token: "s3cret", next })))!;
    assert.equal(res.headers.get("location"), "/", next);
  }
  const huge = (await access.answer(form({ token: "x".repeat(20_000) })))!;
  assert.equal(huge.status, 413);
});
