/** Starts `worker/serve/serve_main.ts` in its own process on 127.0.0.1, port 0, and stops it. */
import { GenerationClient } from "../../../worker/serve/client.ts";

/** A live server process and a client connected to it. */
export interface ServerProcess {
  address: string;
  /** `http://HOST:PORT` of the HTTP API, when started with `--http-port`. */
  http: string;
  client: GenerationClient;
  /** Stops the server and waits for the process to exit. */
  stop(): Promise<void>;
}

/**
 * Serves a seeded random tiny model (byte codec, context 1024 so a generation can outlast a
 * cancel) with extra `flags`; `model` replaces the model flags (e.g. `--checkpoint DIR`).
 */
export async function startServerProcess(
  flags: string[] = [],
  model = ["--random-init", "tiny", "--vocab-size", "257", "--seed", "3", "--context", "1024"],
): Promise<ServerProcess> {
  const serveMain = new URL("../../../worker/serve/serve_main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-no-legacy-abort",
      serveMain,
      ...model,
      "--port",
      "0",
      "--threads",
      "1",
      ...flags,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 60_000;
  const ready = flags.includes("--http-port")
    ? /http listening on (\S+)\n/
    : /listening on (\S+)\n/;
  while (!ready.test(seen)) {
    const { value, done } = await lines.read();
    if (done || Date.now() > deadline) {
      try {
        child.kill();
      } catch { /* already exited */ }
      await child.status;
      throw new Error(`Server exited before listening; stdout: ${seen}`);
    }
    seen += value;
  }
  const address = /^listening on (\S+)\n/m.exec(seen)![1];
  const http = /http listening on (\S+)\n/.exec(seen)?.[1];
  const client = new GenerationClient(address, {
    apiKey: flags.includes("--api-key") ? flags[flags.indexOf("--api-key") + 1] : undefined,
  });
  return {
    address,
    http: http ? `http://${http}` : "",
    client,
    async stop() {
      client.close();
      lines.cancel().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch { /* it already exited: a test reports why */ }
      await child.status;
    },
  };
}
