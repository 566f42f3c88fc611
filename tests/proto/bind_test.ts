import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../model/errors.ts";
import { bindServer } from "../../proto/mod.ts";
import { runtimeProblem } from "../../proto/bind.ts";

Deno.test("binding a port that is in use is an InputError naming --port and the address", async () => {
  const first = new grpc.Server();
  const port = await bindServer(first, "127.0.0.1", 0);
  assert.ok(port > 0);
  const second = new grpc.Server();
  try {
    await assert.rejects(
      () => bindServer(second, "127.0.0.1", port),
      (err) =>
        err instanceof InputError && err.where === "--port" &&
        err.message.includes(`127.0.0.1:${port} is already in use`),
    );
  } finally {
    first.forceShutdown();
    second.forceShutdown();
  }
});

Deno.test("servers name the Deno releases that abort them, and the release to install", () => {
  for (const bad of ["2.9.4", "2.9.5", "2.9.6"]) {
    assert.match(runtimeProblem(bad)!, new RegExp(`Deno ${bad} aborts .* deno@2\\.9\\.3`));
  }
  assert.equal(runtimeProblem("2.9.3"), undefined);
});
