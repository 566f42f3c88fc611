/**
 * Secrets (job token, API key) from a flag, a file or the environment: `secretFlag` itself, and a
 * real server and client given their key by file and by environment, with every process's command
 * line on the host read while they talk.
 */
import assert from "node:assert/strict";
import { secretFlag } from "../../model/cli.ts";
import { InputError } from "../../model/errors.ts";
import { commandLinesContaining, watchSecret } from "../_processes.ts";
import { denoOutput, denoRun, listeningAddress, SERVE_FLAGS } from "../../model/subprocess.ts";

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("a secret comes from --NAME-file (trimmed), else --NAME, else the environment", async () => {
  const env = `DENOFORMER_TEST_SECRET_${crypto.randomUUID().replaceAll("-", "")}`;
  assert.equal(await secretFlag({}, "token", env), undefined);
  Deno.env.set(env, "from-env");
  try {
    assert.equal(await secretFlag({}, "token", env), "from-env");
    assert.equal(await secretFlag({ token: "from-flag" }, "token", env), "from-flag");
    await withFile("from-file\n", async (path) => {
      assert.equal(await secretFlag({ "token-file": path }, "token", env), "from-file");
    });
  } finally {
    Deno.env.delete(env);
  }
});

Deno.test("both flags, an empty file or an unreadable one are refused, naming the flag", async () => {
  const refused = async (flags: Record<string, string>, where: string, words: RegExp) => {
    await assert.rejects(secretFlag(flags, "api-key", "DENOFORMER_API_KEY_UNSET"), (e) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.where, where);
      assert.match(e.message, words);
      return true;
    });
  };
  await withFile(" \n", async (path) => {
    await refused({ "api-key-file": path }, "--api-key-file", /is empty/);
    await refused({ "api-key": "k", "api-key-file": path }, "--api-key-file", /not both/);
  });
  await refused({ "api-key-file": "/nonexistent/key" }, "--api-key-file", /cannot read/);
  await refused({ "api-key": "" }, "--api-key", /is empty/);
});

Deno.test("a server given its API key by file and a client given it by environment talk, and no command line shows the key", async () => {
  const key = `key-${crypto.randomUUID()}`;
  await withFile(`${key}\n`, async (keyFile) => {
    const server = denoRun("worker/serve/serve_main.ts", [
      ...["--random-init", "tiny", "--vocab-size", "257", "--context", "64", "--seed", "1"],
      ...["--port", "0", "--threads", "1", "--api-key-file", keyFile],
    ], { stdout: "piped", stderr: "null", denoFlags: SERVE_FLAGS }).spawn();
    try {
      const address = await listeningAddress(server.stdout);
      const generate = (env: Record<string, string>) =>
        denoOutput(
          "worker/serve/generate_main.ts",
          ["--server", address, "--prompt", "ab", "--max-tokens", "4", "--json"],
          { env },
        );
      const watch = watchSecret(key);
      const [good, bad] = await Promise.all([
        generate({ DENOFORMER_API_KEY: key }),
        generate({ DENOFORMER_API_KEY: "wrong" }),
      ]);
      const { onCommandLines } = await watch.stop();
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout.trim().split("\n").length, 4);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /code 16/); // UNAUTHENTICATED
      assert.deepEqual(onCommandLines, []);
      // The scans did look at the server, which holds the key: its command line names the file.
      assert.equal((await commandLinesContaining(keyFile)).length, 1);
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
  });
});
