/**
 * TLS and mutual TLS with the shared credential helpers, on a real 2-rank ring in this process.
 */
import assert from "node:assert/strict";
import { type TlsFiles } from "../../proto/mod.ts";
import { makeCertificates } from "../_certificates.ts";
import {
  ChunkMailbox,
  PeerClient,
  ringAllReduce,
  startPeerServer,
} from "../../worker/collective/mod.ts";

async function tlsRing(serverTls: TlsFiles, clientTls: TlsFiles | undefined) {
  const mailboxes = [new ChunkMailbox("tls-job"), new ChunkMailbox("tls-job")];
  const servers = await Promise.all(
    mailboxes.map((mailbox) =>
      startPeerServer({ host: "127.0.0.1", port: 0, token: "t", mailbox, tls: serverTls })
    ),
  );
  const clients = [1, 0].map((r) =>
    new PeerClient(`127.0.0.1:${servers[r].port}`, { token: "t", tls: clientTls })
  );
  const buffers = [new Float32Array([1, 2, 3]), new Float32Array([10, 20, 30])];
  const results = await Promise.allSettled([0, 1].map((rank) =>
    ringAllReduce(buffers[rank], {
      jobId: "tls-job",
      ringVersion: 0,
      rank,
      worldSize: 2,
      mailbox: mailboxes[rank],
      right: clients[rank],
    }, { step: 1, chunkTimeoutMs: 3000, timeoutMs: 5000 })
  ));
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
  return { results, buffers };
}

Deno.test("peers all-reduce over mutual TLS and refuse a client without a certificate", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await makeCertificates(dir);
    const serverTls = {
      certPath: `${dir}/server.pem`,
      keyPath: `${dir}/server.key`,
      caPath: `${dir}/ca.pem`,
    };
    const clientTls = {
      certPath: `${dir}/client.pem`,
      keyPath: `${dir}/client.key`,
      caPath: `${dir}/ca.pem`,
      serverName: "localhost", // Deno's TLS will not take an IP as server name
    };

    const ok = await tlsRing(serverTls, clientTls);
    for (const r of ok.results) {
      assert.equal(r.status, "fulfilled", String((r as PromiseRejectedResult).reason));
    }
    for (const b of ok.buffers) assert.deepEqual(Array.from(b), [11, 22, 33]);

    const noClientCert = await tlsRing(serverTls, {
      caPath: `${dir}/ca.pem`,
      serverName: "localhost",
    });
    for (const r of noClientCert.results) assert.equal(r.status, "rejected");
    console.log(
      `without a client certificate: ${(noClientCert.results[0] as PromiseRejectedResult).reason}`,
    );

    const plaintext = await tlsRing(serverTls, undefined);
    for (const r of plaintext.results) assert.equal(r.status, "rejected");
    console.log(`plaintext client: ${(plaintext.results[0] as PromiseRejectedResult).reason}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
