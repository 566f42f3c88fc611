/**
 * Every gRPC server we run binds through proto/bind.ts with its connection limits: the
 * coordinator and the inference server as the processes users start, a training worker's peer
 * server as the worker starts it.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { ChunkMailbox, startPeerServer } from "../../worker/collective/mod.ts";
import { coordinator, spawn, stop, withRun } from "../coordinator/_cluster.ts";

/**
 * Whether the server at `port` closes a connection that sends nothing; false after a minute, a
 * hang guard six times the default handshake timeout.
 */
function closesSilentConnection(port: number): Promise<boolean> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const guardMs = 60_000;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), guardMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  }).finally(() => socket.destroy());
}

Deno.test("the coordinator, the inference server and a worker's peer server close a connection that never finishes its handshake", async () => {
  await withRun(async (run, config) => {
    const coord = coordinator(run, config, ["--port", "0"]);
    const serve = spawn("worker/serve/serve_main.ts", ["--random-init", "tiny", "--port", "0"]);
    const peer = await startPeerServer({
      host: "127.0.0.1",
      port: 0,
      token: "t",
      mailbox: new ChunkMailbox("job"),
    });
    try {
      const port = async (p: Promise<string>) => Number((await p).split(":").at(-1));
      const closed = await Promise.all([
        closesSilentConnection(await port(coord.address)),
        closesSilentConnection(await port(serve.address)),
        closesSilentConnection(peer.port),
      ]);
      assert.deepEqual(closed, [true, true, true], "coordinator, inference, peer");
    } finally {
      await Promise.all([stop(coord), stop(serve), peer.close()]);
    }
  });
});
