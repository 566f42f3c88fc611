/**
 * Every refused call to a real coordinator process gets the status that says why, at once: not a
 * deadline, not INTERNAL.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { CoordinatorClient } from "../../worker/training/mod.ts";
import { coordinator, stop, withRun } from "./_cluster.ts";

/** The status a call ended with (OK when it succeeded). */
async function status(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (err) {
    return grpc.status[(err as grpc.ServiceError).code];
  }
}

Deno.test("FetchShard, FetchState and UploadState refuse a bad token, an unknown worker or file with the status that says so", async () => {
  await withRun(async (run, config) => {
    const coord = coordinator(run, config, ["--token", "right", "--port", "0"]);
    try {
      const address = await coord.address;
      const as = (token: string) => new CoordinatorClient(address, { token });
      const right = as("right"), wrong = as("wrong");
      const { worker_id: id } = await right.call<{ worker_id: string }>("Join", {
        name: "probe",
        peer_address: "127.0.0.1:1",
        tcp_address: "127.0.0.1:2",
        device: "cpu",
      });
      // Deadlines far above any answer: a call that is never answered shows as DEADLINE_EXCEEDED.
      const hangGuardMs = 30_000;
      const shard = (c: CoordinatorClient, worker: string, file: string) =>
        status(c.download("FetchShard", { worker_id: worker, file }, hangGuardMs));
      const state = (c: CoordinatorClient, worker: string) =>
        status(c.download("FetchState", { worker_id: worker }, hangGuardMs));
      const noToken = new grpc.Client(address, grpc.credentials.createInsecure());
      const bare = new Promise((resolve, reject) =>
        noToken.makeServerStreamRequest(
          "/denoformer.v1.Coordinator/FetchShard",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          new grpc.Metadata(),
          { deadline: Date.now() + hangGuardMs },
        ).on("error", reject).on("end", resolve).on("data", () => {})
      );
      const got = Object.fromEntries(
        await Promise.all(
          Object.entries({
            "FetchShard without a token": status(bare),
            "FetchShard with a wrong token": shard(wrong, id, "tokenizer.json"),
            "FetchShard for an unknown worker": shard(right, "w99-nobody", "tokenizer.json"),
            "FetchShard of an unknown file": shard(right, id, "../../etc/passwd"),
            "FetchState with a wrong token": state(wrong, id),
            "FetchState for an unknown worker": state(right, "w99-nobody"),
            "FetchState before any state exists": state(right, id),
            "UploadState for an unknown worker": status(
              right.upload("w99-nobody", 0, new Uint8Array(8), hangGuardMs),
            ),
            "FetchShard of a real file": shard(right, id, "tokenizer.json"),
          }).map(async ([what, call]) => [what, await call]),
        ),
      );
      assert.deepEqual(got, {
        "FetchShard without a token": "UNAUTHENTICATED",
        "FetchShard with a wrong token": "UNAUTHENTICATED",
        "FetchShard for an unknown worker": "FAILED_PRECONDITION",
        "FetchShard of an unknown file": "NOT_FOUND",
        "FetchState with a wrong token": "UNAUTHENTICATED",
        "FetchState for an unknown worker": "FAILED_PRECONDITION",
        "FetchState before any state exists": "FAILED_PRECONDITION",
        "UploadState for an unknown worker": "FAILED_PRECONDITION",
        "FetchShard of a real file": "OK",
      });
      for (const c of [right, wrong]) c.close();
      noToken.close();
    } finally {
      await stop(coord);
    }
  });
});
