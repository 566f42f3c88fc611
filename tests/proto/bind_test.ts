import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { makeCertificates } from "../_certificates.ts";
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

/** Resolves when the server has closed `socket`; fails after 30 s, a hang guard. */
function closed(socket: net.Socket): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    new Promise<void>((resolve) => socket.once("close", () => resolve()).on("error", () => {})),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error("The server left a connection open")), 30_000);
    }),
  ]).finally(() => {
    clearTimeout(timer);
    socket.destroy();
  });
}

/** A TCP connection to `port` that sends `bytes` (maybe nothing) and then nothing more. */
async function stalled(port: number, bytes: Uint8Array = new Uint8Array()): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  if (bytes.length) socket.write(bytes);
  return socket;
}

Deno.test("a connection that never finishes its TLS or HTTP/2 handshake is closed, and one that finishes it stays", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await makeCertificates(dir);
    const tls = { certPath: `${dir}/server.pem`, keyPath: `${dir}/server.key` };
    for (const secure of [false, true]) {
      const server = new grpc.Server();
      const limits = { handshakeTimeoutMs: 300, maxConnections: 100 };
      const port = await bindServer(server, "127.0.0.1", 0, secure ? tls : undefined, limits);
      // Silent; half an HTTP/2 preface; the 5-byte header of a TLS record whose body never comes.
      const half = secure ? [0x16, 0x03, 0x01, 0x02, 0x00] : [...new TextEncoder().encode("PRI *")];
      const stuck = [await stalled(port), await stalled(port, Uint8Array.from(half))];
      const session = http2.connect(
        `${secure ? "https" : "http"}://127.0.0.1:${port}`,
        secure ? { ca: Deno.readTextFileSync(`${dir}/ca.pem`), servername: "localhost" } : {},
      );
      await new Promise((resolve, reject) =>
        session.once("remoteSettings", resolve).on("error", reject)
      );
      let sessionClosed = false;
      session.once("close", () => sessionClosed = true);
      await Promise.all(stuck.map(closed));
      assert.equal(
        sessionClosed,
        false,
        "a client that finished its handshake keeps its connection",
      );
      session.destroy();
      server.forceShutdown();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("connections beyond the cap are refused as they arrive, and a freed slot takes a new client", async () => {
  const server = new grpc.Server();
  const port = await bindServer(server, "127.0.0.1", 0, undefined, {
    handshakeTimeoutMs: 600_000, // no connection here is closed for its handshake
    maxConnections: 2,
  });
  const held = [await stalled(port), await stalled(port)];
  let heldClosed = false;
  held.forEach((s) => s.once("close", () => heldClosed = true));
  await closed(await stalled(port));
  assert.equal(heldClosed, false, "the connections within the cap stay");
  held[0].destroy();
  // The channel retries until the server has seen that connection go (30 s is a hang guard).
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 30_000, (err) => err ? reject(err) : resolve())
  );
  const status = await new Promise<grpc.status>((resolve) =>
    client.makeUnaryRequest(
      "/no.Such/Method",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + 30_000 },
      (err) => resolve(err?.code ?? grpc.status.OK),
    )
  );
  assert.equal(grpc.status[status], "UNIMPLEMENTED", "the new client reached the server");
  client.close();
  held[1].destroy();
  server.forceShutdown();
});
