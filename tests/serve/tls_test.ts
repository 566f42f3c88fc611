import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { GenerationClient } from "../../worker/serve/client.ts";
import { startServerProcess } from "./_server.ts";

Deno.test("with --tls-cert and --tls-key the server speaks TLS only, to clients that trust its CA", async () => {
  const dir = await Deno.makeTempDir({ prefix: "serve_tls_" });
  const [ca, cert, key] = [`${dir}/ca.pem`, `${dir}/server.pem`, `${dir}/server.key`];
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
    assertEquals(out.success, true, new TextDecoder().decode(out.stderr));
  };
  const key2048 = ["-newkey", "rsa:2048", "-nodes"];
  await openssl("req", "-x509", ...key2048, "-keyout", "ca.key", "-out", ca, "-subj", "/CN=ca");
  await openssl("req", ...key2048, "-keyout", key, "-out", "server.csr", "-subj", "/CN=server");
  Deno.writeTextFileSync(`${dir}/san.ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(
    "x509",
    ...["-req", "-in", "server.csr", "-CA", ca, "-CAkey", "ca.key", "-CAcreateserial"],
    ...["-out", cert, "-days", "1", "-extfile", "san.ext"],
  );
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
