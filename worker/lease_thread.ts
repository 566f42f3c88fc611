/**
 * The lease thread of {@linkcode Lease}: heartbeats the coordinator every `intervalMs` and posts
 * back the ring version, or the error, of each answer.
 */
/// <reference lib="deno.worker" />
import { CoordinatorClient } from "./coordinator_client.ts";
import type { LeaseOptions } from "./lease.ts";

type Settings = Omit<LeaseOptions, "onRingVersion" | "onError">;

let running = true;
self.onmessage = (e: MessageEvent<Settings | "stop">) => {
  if (e.data === "stop") running = false;
  else void heartbeat(e.data);
};

async function heartbeat(o: Settings): Promise<void> {
  const client = new CoordinatorClient(o.coordinator, { token: o.token, tls: o.tls });
  while (running) {
    try {
      const r = await client.call<{ ring_version: number }>(
        "Heartbeat",
        { worker_id: o.workerId },
        o.intervalMs * 4,
      );
      if (running) self.postMessage({ ringVersion: r.ring_version });
    } catch (err) {
      if (running) self.postMessage({ error: String((err as Error).message) });
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}
