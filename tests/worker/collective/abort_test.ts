import assert from "node:assert/strict";
import {
  AllReduceError,
  ChunkMailbox,
  PeerClient,
  ringAllReduce,
  startPeerServer,
} from "../../../worker/collective/mod.ts";

Deno.test("an AbortSignal ends a waiting all-reduce at once with AllReduceError", async () => {
  // Rank 1's server is up but rank 1 never joins the collective: rank 0 would wait for its
  // chunks until chunkTimeoutMs (10 s); the caller's signal (a heartbeat monitor, say) ends it.
  const mailboxes = [new ChunkMailbox("job"), new ChunkMailbox("job")];
  const servers = await Promise.all(
    mailboxes.map((mailbox) =>
      startPeerServer({ host: "127.0.0.1", port: 0, token: "t", mailbox })
    ),
  );
  const right = new PeerClient(servers[1].address, { token: "t" });
  try {
    const ctl = new AbortController();
    const started = performance.now();
    setTimeout(() => ctl.abort(new Error("Rank 1 missed its heartbeat")), 200);
    const ring = {
      jobId: "job",
      ringVersion: 0,
      rank: 0,
      worldSize: 2,
      mailbox: mailboxes[0],
      right,
    };
    await assert.rejects(
      ringAllReduce(new Float32Array(1000), ring, {
        step: 1,
        chunkTimeoutMs: 10_000,
        signal: ctl.signal,
      }),
      (err: Error) => {
        assert.ok(err instanceof AllReduceError);
        assert.match(err.message, /failed on rank 0 of 2: Rank 1 missed its heartbeat/);
        return true;
      },
    );
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `abort took ${ms} ms`);
    // The aborted collective is closed on rank 0: a late chunk for it is refused, not stored.
    assert.ok(mailboxes[0].isClosed({ ringVersion: 0, step: 1, bucket: 0 }));
  } finally {
    right.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});
