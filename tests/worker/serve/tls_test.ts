import { deepStrictEqual as assertEquals, match as assertMatch, rejects } from "node:assert/strict";
import { GenerationClient } from "../../../worker/serve/client.ts";
import { startServerProcess } from "./_server.ts";
import { makeCertificates } from "../../_certificates.ts";
import { denoOutput } from "../../../model/subprocess.ts";

Deno.test("with --tls-cert and --tls-key the server speaks TLS only, to clients that trust its CA", async () => {
  const dir = await Deno.makeTempDir({ prefix: "serve_tls_" });
  const [ca, cert, key] = [`${dir}/ca.pem`, `${dir}/server.pem`, `${dir}/server.key`];
  await makeCertificates(dir);
  const server = await startServerProcess(["--tls-cert", cert, "--tls-key", key]);
  const trusting = new GenerationClient(server.address, {
    tlsCaPath: ca,
    tlsServerName: "localhost",
  });
  try {
    const info = await trusting.call<{ vocab_size: number }>("ModelInfo");
    assertEquals(info.vocab_size, 257);
    let tokens = 0;
    for await (const r of trusting.generate({ prompt: "tls", max_tokens: 5 })) {
      tokens += r.token_ids.length;
    }
    assertEquals(tokens, 5);
    // The helper's client speaks plaintext: refused.
    await rejects(server.client.call("ModelInfo"));
  } finally {
    trusting.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every command refuses a TLS certificate without its key, naming --tls-key", async () => {
  const commands = [
    ["worker/serve/serve_main.ts", "--random-init", "tiny"],
    ["coordinator/main.ts", "--data", "/tmp", "--out", "/tmp/unused-run"],
    ["worker/training/worker_main.ts", "--coordinator", "127.0.0.1:1", "--token", "t"],
  ];
  for (const [script, ...args] of commands) {
    const out = await denoOutput(script, [...args, "--tls-cert", "/tmp/cert.pem"]);
    assertEquals(out.code, 2, `${script}: ${out.stderr}`);
    assertMatch(out.stderr, /--tls-key: a certificate and its key go together \(not given\)/);
  }
});
