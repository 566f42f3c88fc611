/**
 * A training worker: joins the coordinator, fetches and verifies its data, then runs steps as the
 * coordinator plans them: micro-batches, ring all-reduce with its neighbours, and the update only
 * once every rank reported success. A lease (heartbeat) runs beside it on a thread of its own; when
 * the ring version moves, the step in flight is aborted, never waited out.
 */
import { decodeTrainingState, encodeTrainingState } from "../../model/checkpoint/mod.ts";
import { concatTokens, Manifest, tokensFromBytes } from "../../model/data/mod.ts";
import { ChecksumError } from "../../model/errors.ts";
import type { Logger } from "../../model/log.ts";
import { sha256Hex } from "../../model/sha256.ts";
import { JobConfig, jobModel, Trainer } from "../../model/train/mod.ts";
import { atomicWriteFile } from "../../model/atomic_write.ts";
import type { StepPlan, TlsFiles, Verdict } from "../../proto/mod.ts";
import { ChunkMailbox } from "../collective/chunk_mailbox.ts";
import { CoordinatorClient } from "./coordinator_client.ts";
import { Lease } from "./lease.ts";
import { startPeerServer } from "../collective/grpc/peer_server.ts";
import { sharedFloat32Array } from "../collective/shm/shm_slots.ts";
import {
  type ChunkSink,
  sharedFloat16Array,
  startTcpPeerServer,
  TcpPeerClient,
} from "../collective/mod.ts";
import { PeerLinks } from "./peer_links.ts";

export interface TrainingWorkerOptions {
  coordinator: string;
  token: string;
  name: string;
  device: string;
  threads?: number;
  /** Where verified shards are cached between runs. */
  cacheDir: string;
  /** Interface the peer server binds and advertises. */
  host: string;
  tls?: TlsFiles;
  log: Logger;
  /** Give up reconnecting to a lost coordinator after this long. */
  reconnectMs?: number;
}

/** INVALID_ARGUMENT, PERMISSION_DENIED, UNIMPLEMENTED, UNAUTHENTICATED. */
const fatalCodes = new Set([3, 7, 12, 16]);

/**
 * Runs until the job is done. Reconnects with backoff when the coordinator restarts. The peer
 * server and the channel live as long as the process: closing them sends GOAWAY frames, which
 * abort the receiving process inside nghttp2 on Deno 2.9.4–2.9.6 (`runtimeProblem` in
 * proto/bind.ts; 2.9.3 is pinned), so the entry point exits instead.
 */
export async function runTrainingWorker(o: TrainingWorkerOptions): Promise<void> {
  const mailbox = new ChunkMailbox("denoformer");
  const peer = await startPeerServer({
    host: o.host,
    port: 0,
    token: o.token,
    mailbox,
    tls: o.tls,
    logger: o.log,
  });
  // Both listeners start: the job config, known only after joining, picks which one is dialled.
  const tcp = startTcpPeerServer({ host: o.host, port: 0, token: o.token, mailbox, logger: o.log });
  const client = new CoordinatorClient(o.coordinator, { token: o.token, tls: o.tls });
  const lease = new Lease({ coordinator: o.coordinator, token: o.token, tls: o.tls });
  // The trainer outlives a lost coordinator: a rejoining worker keeps its compiled sessions.
  const held: Held = { trainer: undefined, lostSince: undefined };
  const reconnectMs = o.reconnectMs ?? 120_000;
  let backoff = 200;
  while (true) {
    try {
      await session(o, client, lease, { grpc: peer.address, tcp: tcp.address }, mailbox, held);
      return;
    } catch (err) {
      const code = (err as { code?: number }).code;
      // A refusal (bad argument, no permission, wrong token, unknown method) is final. Any other
      // gRPC status means the coordinator went away or restarted: under Deno a dying peer shows up
      // as UNAVAILABLE, INTERNAL (RST_STREAM after EPIPE), CANCELLED or a deadline. Rejoin.
      held.lostSince ??= Date.now();
      if (code === undefined || fatalCodes.has(code) || Date.now() - held.lostSince > reconnectMs) {
        throw err;
      }
      o.log.warn("lost the coordinator; rejoining", {
        error: String((err as Error).message),
        backoffMs: backoff,
      });
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

/** What survives a lost coordinator: the trainer, and since when the coordinator is gone. */
interface Held {
  trainer: Trainer | undefined;
  lostSince: number | undefined;
}

/** One membership: join, train until done or until the coordinator is lost. */
async function session(
  o: TrainingWorkerOptions,
  client: CoordinatorClient,
  lease: Lease,
  peer: { grpc: string; tcp: string },
  mailbox: ChunkMailbox,
  held: Held,
): Promise<void> {
  const joined = await client.call<
    { worker_id: string; job_json: string; manifest_json: string; heartbeat_ms: number }
  >(
    "Join",
    { name: o.name, peer_address: peer.grpc, tcp_address: peer.tcp, device: o.device },
  );
  const id = joined.worker_id;
  held.lostSince = undefined;
  const log = o.log.child({ worker: id });
  const job = JobConfig.parse(JSON.parse(joined.job_json));
  if (o.tls && job.transport === "tcp") {
    throw new Error(
      'The job sends gradients over plain TCP but this worker was given TLS files: set "transport": "grpc"',
    );
  }
  const manifest = Manifest.parse(JSON.parse(joined.manifest_json));

  let ringVersion = 0;
  let abort = new AbortController();
  lease.renew(id, joined.heartbeat_ms, {
    // Versions only grow: an answer older than the step's plan (it crossed the plan on the way) is
    // stale, not a sign that the ring moved on.
    onRingVersion: (version) => {
      if (version > ringVersion) abort.abort(new Error(`ring version moved to ${version}`));
    },
    onError: (error) => log.warn("heartbeat failed", { error }),
  });

  try {
    const trainer = held.trainer ??= await createTrainer(o, client, id, job, manifest, log);
    const links = new PeerLinks({ ...job, jobId: mailbox.jobId, token: o.token, tls: o.tls });
    let hash = "", valLoss = -1, lastStepMs = 0;
    let announced: ChunkSink | undefined; // the connection whose payload path was logged
    while (true) {
      const plan = await client.call<StepPlan>(
        "AwaitStep",
        { worker_id: id, have_step: trainer.step, weights_hash: hash, val_loss: valLoss },
        3_600_000,
      );
      hash = "";
      valLoss = -1;
      if (plan.done) {
        log.info("job done", { step: trainer.step });
        return;
      }
      if (plan.load_state) {
        trainer.restore(
          decodeTrainingState(
            await client.download("FetchState", { worker_id: id }),
            "coordinator state",
          ),
        );
        log.info("loaded state", { step: trainer.step });
      }
      if (trainer.step !== plan.step) {
        throw new Error(`Planned step ${plan.step} but the weights are at ${trainer.step}`);
      }
      trainer.rank = plan.rank;
      trainer.worldSize = plan.world_size;
      trainer.dataPosition = plan.data_position;
      ringVersion = plan.ring_version;
      abort = new AbortController();
      const allReduce = links.allReduce(plan, mailbox);
      const started = performance.now();
      let ok = true, error = "";
      try {
        await trainer.computeGradients((buf, bucket) =>
          allReduce(buf, {
            step: plan.step,
            bucket,
            // fp16 gradients travel as they are; an fp32 buffer beside them (the loss) as fp32.
            wire: buf instanceof Float16Array ? "fp16" : job.wire === "fp16" ? "fp32" : job.wire,
            signal: abort.signal,
            // A neighbour may still be computing when this rank is ready: allow for one step's
            // worth of it. A dead neighbour is found sooner, by its lease (the abort signal).
            chunkTimeoutMs: Math.ceil(Math.max(2000, job.deadAfterMs, 2 * lastStepMs)),
          }).then(() => {})
        );
      } catch (err) {
        ok = false;
        error = String((err as Error).message);
        log.warn("step failed", { step: plan.step, error });
      }
      lastStepMs = performance.now() - started;
      const right = links.right;
      if (ok && right instanceof TcpPeerClient && announced !== right) {
        announced = right;
        log.info("data plane", { right: right.address, payloads: await right.path() });
      }
      const loss = ok ? trainer.lastLoss : 0;
      const verdict = await client.call<Verdict>(
        "ReportReduced",
        { worker_id: id, step: plan.step, ring_version: plan.ring_version, ok, loss, error },
        3_600_000,
      );
      if (!verdict.commit) continue;
      const m = trainer.applyUpdate(started);
      if (plan.rank === 0) log.info("step", { ...m });
      if (verdict.upload_state) {
        await client.upload(id, trainer.step, encodeTrainingState(trainer.checkpointContents()));
      }
      if (plan.report_hash) hash = await trainer.weightsHash();
      if (plan.evaluate) valLoss = (await trainer.evaluate()) ?? -1;
    }
  } finally {
    lease.stop();
    abort.abort();
  }
}

async function createTrainer(
  o: TrainingWorkerOptions,
  client: CoordinatorClient,
  id: string,
  job: JobConfig,
  manifest: Manifest,
  log: Logger,
): Promise<Trainer> {
  const fetch = (file: string, sha256: string) => cachedFile(o.cacheDir, client, id, file, sha256);
  const tokenizerJson = new TextDecoder().decode(
    await fetch(manifest.tokenizer.file, manifest.tokenizer.sha256),
  );
  const split = async (name: "train" | "val") => {
    const shards = manifest.shards.filter((s) => s.split === name);
    const parts = await Promise.all(shards.map((s) => fetch(s.file, s.sha256)));
    return concatTokens(parts.map((p) => tokensFromBytes(p, manifest.dtype)), manifest.dtype);
  };
  const train = await split("train"), val = await split("val");
  log.info("data ready", { trainTokens: train.length, valTokens: val.length });
  return await Trainer.create({
    model: jobModel(job, manifest.tokenizer.vocabSize),
    train: job.train,
    trainTokens: train,
    valTokens: val.length ? val : undefined,
    tokenizerJson,
    device: o.device,
    threads: o.threads,
    gradientBuffer: job.transport === "tcp" && job.sharedMemory ? sharedFloat32Array : undefined,
    gradientWire: job.wire === "fp16" ? "fp16" : "fp32",
    halfGradientBuffer: job.transport === "tcp" && job.sharedMemory
      ? sharedFloat16Array
      : undefined,
  });
}

/** A data file from the cache when its sha256 matches, else fetched from the coordinator. */
async function cachedFile(
  cacheDir: string,
  client: CoordinatorClient,
  id: string,
  file: string,
  sha256: string,
): Promise<Uint8Array> {
  const path = `${cacheDir}/${sha256}`;
  try {
    const bytes = await Deno.readFile(path);
    if (await sha256Hex(bytes) === sha256) return bytes;
  } catch {
    // not cached yet
  }
  const bytes = await client.download("FetchShard", { worker_id: id, file });
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) throw new ChecksumError(file, sha256, actual);
  await Deno.mkdir(cacheDir, { recursive: true });
  await atomicWriteFile(path, bytes);
  return bytes;
}
