/**
 * The lease thread of {@linkcode Lease}: heartbeats the coordinator for the current membership every
 * `intervalMs` and posts back the ring version, or the error, of each answer, tagged with the
 * membership (the number `renew` sent) it belongs to.
 */
/// <reference lib="deno.worker" />
import { CoordinatorClient } from "./coordinator_client.ts";
import type { LeaseMessage } from "./lease.ts";

let client: CoordinatorClient | undefined;
let current: { workerId: string; intervalMs: number; membership: number } | undefined;
let looping = false;

self.onmessage = (e: MessageEvent<LeaseMessage>) => {
  const m = e.data;
  if (m === "stop") current = undefined;
  else if ("renew" in m) {
    current = m.renew;
    if (!looping) void heartbeat();
  } else {
    client = new CoordinatorClient(m.coordinator, { token: m.token, tls: m.tls });
    client.connect(CONNECT_MS).catch(() => {}).then(() => self.postMessage("ready"));
  }
};

/** How long the thread tries to connect before it says it is ready anyway (Join will retry). */
const CONNECT_MS = 10_000;

async function heartbeat(): Promise<void> {
  looping = true;
  while (current && client) {
    const { workerId, intervalMs, membership } = current;
    try {
      const r = await client.call<{ ring_version: number }>(
        "Heartbeat",
        { worker_id: workerId },
        intervalMs * 4,
      );
      self.postMessage({ membership, ringVersion: r.ring_version });
    } catch (err) {
      self.postMessage({ membership, error: String((err as Error).message) });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  looping = false;
}
