import assert from "node:assert/strict";
import { HttpError, toHttpError } from "../../../worker/serve/http_errors.ts";
import { InputError } from "../../../model/errors.ts";

Deno.test("an HTTP-only error counts as the gRPC status its HTTP status stands for", () => {
  const code = (status: number) => toHttpError(new HttpError(status, "no", "x")).grpcCode;
  assert.equal(code(400), "INVALID_ARGUMENT");
  assert.equal(code(403), "PERMISSION_DENIED");
  assert.equal(code(404), "NOT_FOUND");
  assert.equal(code(413), "RESOURCE_EXHAUSTED");
  assert.equal(code(418), "INVALID_ARGUMENT");
  assert.equal(code(500), "INTERNAL");
});

Deno.test("a domain error is answered as its gRPC status maps to HTTP, naming the field", () => {
  const answer = toHttpError(new InputError("max_tokens", "must be a positive integer"));
  assert.equal(answer.status, 400);
  assert.equal(answer.grpcCode, "INVALID_ARGUMENT");
  assert.equal(answer.body.error.param, "max_tokens");
  assert.equal(answer.body.error.type, "invalid_request_error");
});
