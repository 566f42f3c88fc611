import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { z } from "zod";
import { InputError } from "../../model/errors.ts";
import {
  loadProtoFiles,
  messageCodec,
  parseMessage,
  PreconditionError,
  protoPath,
  serviceDefinition,
  toGrpcError,
  UnauthenticatedError,
  UndecodableMessage,
} from "../../proto/mod.ts";

Deno.test("serviceDefinition builds grpc-js paths, streaming flags and protobufjs codecs", () => {
  const root = loadProtoFiles([protoPath("peer.proto")]);
  const def = serviceDefinition(root, "denoformer.v1.Peer");
  const m = def.SendChunks;
  assert.equal(m.path, "/denoformer.v1.Peer/SendChunks");
  assert.equal(m.requestStream, true);
  assert.equal(m.responseStream, false);
  const bytes = m.requestSerialize({ job_id: "j", step: 2 ** 40, phase: "RING_PHASE_ALL_GATHER" });
  const back = m.requestDeserialize(bytes) as Record<string, unknown>;
  assert.equal(back.job_id, "j");
  assert.equal(back.step, 2 ** 40, "uint64 decodes to a number");
  assert.equal(back.phase, "RING_PHASE_ALL_GATHER", "enums decode to their names");
  assert.equal(back.round, 0, "absent fields decode as zero");
  assert.ok(back.payload instanceof Uint8Array);
});

Deno.test("undecodable bytes become an UndecodableMessage, refused as INVALID_ARGUMENT", () => {
  const def = serviceDefinition(loadProtoFiles([protoPath("peer.proto")]), "denoformer.v1.Peer");
  const decoded = def.SendChunks.requestDeserialize(new Uint8Array([0x0a, 0xff, 0xff]) as never);
  assert.ok(decoded instanceof UndecodableMessage);
  assert.throws(() => parseMessage(z.object({}), decoded, "Chunk"), InputError);
  const status = toGrpcError(new InputError("Chunk", "bad"));
  assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
});

Deno.test("loadProtoFiles follows imports relative to the importing file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      `${dir}/a.proto`,
      `syntax = "proto3"; package t; message A { int32 x = 1; }`,
    );
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(
      `${dir}/sub/b.proto`,
      `syntax = "proto3"; package t; import "../a.proto"; message B { A a = 1; }`,
    );
    const codec = messageCodec(loadProtoFiles([`${dir}/sub/b.proto`]), "t.B");
    assert.deepEqual(codec.decode(codec.encode({ a: { x: 5 } })), { a: { x: 5 } });
    assert.throws(() => loadProtoFiles([`${dir}/missing.proto`]), /Cannot read proto file/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("toGrpcError maps each error class to its status with a message", () => {
  const cases: [unknown, grpc.status][] = [
    [new UnauthenticatedError("Wrong job token"), grpc.status.UNAUTHENTICATED],
    [new PreconditionError("Wrong job"), grpc.status.FAILED_PRECONDITION],
    [z.string().safeParse(3).error, grpc.status.INVALID_ARGUMENT],
    [new DOMException("stop", "AbortError"), grpc.status.CANCELLED],
    [new Error("boom"), grpc.status.INTERNAL],
    ["a string", grpc.status.INTERNAL],
  ];
  for (const [err, code] of cases) {
    const status = toGrpcError(err);
    assert.equal(grpc.status[status.code], grpc.status[code]);
    assert.ok(status.details.length > 0);
  }
});
