/**
 * An all-reduce probe process: one rank of a ring, driven by JSON lines on stdin, answering JSON
 * lines on stdout. Tests and `bench/allreduce.ts` spawn several (see local_ring.ts) to run the
 * real transport between real processes.
 *
 *     deno run -A worker/collective/probe/probe_main.ts --rank 0 --world 2 --job j --token t [--port 0]
 *       [--transport grpc|tcp|shm]
 *
 * Prints `listening on HOST:PORT`, then takes commands:
 * `{"cmd":"connect","right":"HOST:PORT"}`, `{"cmd":"allreduce","step":1,"length":1000,...}`,
 * `{"cmd":"p2pSend",...}`, `{"cmd":"p2pReceive",...}`, `{"cmd":"exit"}`.
 */
import { parseArgs } from "node:util";
import { jsonLogger } from "../../../model/log.ts";
import { sha256Hex } from "../../../model/sha256.ts";
import { payloadPool } from "../buffer_pool.ts";
import { ChunkMailbox } from "../chunk_mailbox.ts";
import { PeerClient } from "../grpc/peer_client.ts";
import { startPeerServer } from "../grpc/peer_server.ts";
import { sharedFloat32Array } from "../shm/shm_slots.ts";
import { startTcpPeerServer } from "../tcp/peer_server.ts";
import { TcpPeerClient } from "../tcp/peer_client.ts";
import { type Ring, ringAllReduce } from "../ring_allreduce.ts";
import { ProbeCommand, probeInput, ProbePattern, probeValue, Transport } from "./protocol.ts";

/**
 * The all-reduce input, refilled in place by the next command of the same length, as a trainer
 * reuses its gradient buffer step after step (and gloo's benchmark one tensor): a fresh 40 MB
 * array per call paid for pages the peer never allocates.
 */
let reusedInput: Float32Array<ArrayBuffer> | undefined;

if (import.meta.main) await main(Deno.args);

async function main(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      rank: { type: "string" },
      world: { type: "string" },
      job: { type: "string", default: "probe" },
      token: { type: "string", default: "" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      transport: { type: "string", default: "grpc" },
    },
  });
  const transport = Transport.parse(values.transport);
  const rank = Number(values.rank);
  const worldSize = Number(values.world);
  const logger = jsonLogger({ component: "allreduce-probe", rank });
  const mailbox = new ChunkMailbox(values.job);
  const serverOptions = {
    host: values.host,
    port: Number(values.port),
    token: values.token,
    mailbox,
    logger,
  };
  const server = transport === "grpc"
    ? await startPeerServer(serverOptions)
    : startTcpPeerServer(serverOptions);
  console.log(`listening on ${server.address}`);
  const ring: Ring = {
    jobId: values.job,
    ringVersion: 0,
    rank,
    worldSize,
    mailbox,
    right: undefined,
  };
  const reply = (obj: Record<string, unknown>) => console.log(JSON.stringify(obj));

  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  commands: for await (const text of lines) {
    pending += text;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const cmd = ProbeCommand.parse(JSON.parse(line));
      if (cmd.cmd === "exit") break commands;
      try {
        reply({ ok: true, ...(await run(cmd, ring, values.token, transport)) });
      } catch (err) {
        const e = err as Error;
        reply({ ok: false, name: e.name, error: e.message });
      }
    }
  }
  // "exit", or stdin closed: whoever drove this probe is gone, and so is the probe.
  ring.right?.close();
  await server.close();
  Deno.exit(0);
}

async function run(
  cmd: ProbeCommand,
  ring: Ring,
  token: string,
  transport: Transport,
): Promise<Record<string, unknown>> {
  switch (cmd.cmd) {
    case "connect":
      ring.right?.close();
      ring.right = transport === "grpc"
        ? new PeerClient(cmd.right, { token: cmd.token ?? token })
        : new TcpPeerClient(cmd.right, {
          jobId: ring.jobId,
          token: cmd.token ?? token,
          rank: ring.rank,
          sharedMemory: transport === "shm",
        });
      ring.ringVersion = cmd.ringVersion;
      return {};
    case "allreduce": {
      const times: number[] = [];
      // With shared memory, the input lies where the right neighbour reads it in place.
      const buffer = reusedInput = reusedInput?.length === cmd.length
        ? reusedInput
        : transport === "shm"
        ? sharedFloat32Array(cmd.length)
        : new Float32Array(cmd.length);
      const started = performance.now();
      try {
        for (let r = 0; r < cmd.repeat; r++) {
          probeInput(cmd.pattern, ring.rank, cmd.length, cmd.seed, buffer);
          // Barrier (a one-element all-reduce, bucket 1) so no rank's clock starts while another
          // is still building its input, as gloo's benchmark does with dist.barrier().
          await ringAllReduce(new Float32Array(1), ring, {
            step: cmd.options.step + r,
            bucket: cmd.options.bucket + 1,
            timeoutMs: cmd.options.timeoutMs,
            chunkTimeoutMs: cmd.options.chunkTimeoutMs,
          });
          const stats = await ringAllReduce(buffer, ring, {
            ...cmd.options,
            step: cmd.options.step + r,
          });
          times.push(stats.ms);
        }
      } catch (err) {
        const e = err as Error;
        return {
          failed: true,
          name: e.name,
          error: e.message,
          elapsedMs: performance.now() - started,
        };
      }
      return {
        times,
        // How payloads went to the right neighbour (a TCP plane client knows; gRPC has one way).
        path: ring.right instanceof TcpPeerClient ? await ring.right.path() : transport,
        sha256: await sha256Hex(
          new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
        ),
        maxAbsErr: cmd.check ? maxAbsError(buffer, cmd, ring.worldSize) : null,
      };
    }
    case "p2pSend": {
      const payload = new Uint8Array(cmd.chunkBytes).fill(7);
      const count = Math.ceil(cmd.bytes / cmd.chunkBytes);
      const started = performance.now();
      const stream = ring.right!.openChunkStream({
        deadline: Date.now() + 60_000,
        window: cmd.window,
        stallMs: 10_000,
      });
      for (let c = 0; c < count; c++) {
        await stream.write({
          job_id: ring.jobId,
          ring_version: 0xffff_ffff,
          step: cmd.step,
          phase: "RING_PHASE_REDUCE_SCATTER",
          chunk_index: c,
          dtype: "WIRE_DTYPE_FP32",
          element_count: payload.length / 4,
          payload,
        });
      }
      await stream.finish(10_000);
      return { ms: performance.now() - started, bytes: count * payload.length };
    }
    case "p2pReceive": {
      const count = Math.ceil(cmd.bytes / cmd.chunkBytes);
      const id = { ringVersion: 0xffff_ffff, step: cmd.step, bucket: 0 };
      let bytes = 0;
      for (let c = 0; c < count; c++) {
        const chunk = await ring.mailbox.take(
          id,
          { phase: "RING_PHASE_REDUCE_SCATTER", round: 0, chunkIndex: c },
          10_000,
        );
        bytes += chunk.payload.length;
        payloadPool.release(chunk.payload);
      }
      ring.mailbox.close(id);
      return { bytes };
    }
    case "exit":
      return {};
  }
}

function maxAbsError(
  result: Float32Array,
  cmd: { pattern: ProbePattern; seed: number; options: { op?: "sum" | "mean" } },
  worldSize: number,
): number {
  let worst = 0;
  for (let i = 0; i < result.length; i++) {
    let sum = 0;
    for (let r = 0; r < worldSize; r++) sum += Math.fround(probeValue(cmd.pattern, r, i, cmd.seed));
    const expected = cmd.options.op === "mean" ? sum / worldSize : sum;
    worst = Math.max(worst, Math.abs(result[i] - expected));
  }
  return worst;
}
