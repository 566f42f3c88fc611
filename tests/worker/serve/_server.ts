/** Starts `worker/serve/serve_main.ts` in its own process on 127.0.0.1, port 0, and stops it. */
import { GenerationClient } from "../../../worker/serve/client.ts";
import { denoRun, readUntil, SERVE_FLAGS } from "../../../model/subprocess.ts";

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
  const child = denoRun(
    "worker/serve/serve_main.ts",
    [...model, "--port", "0", "--threads", "1", ...flags],
    { stdout: "piped", stderr: "null", denoFlags: SERVE_FLAGS },
  ).spawn();
  const ready = flags.includes("--http-port")
    ? /http listening on (\S+)\n/
    : /^listening on \S+\n/m;
  const seen = await readUntil(child.stdout, ready);
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
      try {
        child.kill("SIGTERM");
      } catch { /* it already exited: a test reports why */ }
      await child.status;
    },
  };
}
