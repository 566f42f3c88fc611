/**
 * A training worker: joins the coordinator, fetches and verifies its data, then runs steps as the
 * coordinator plans them: micro-batches, all-reduce with its peers (the ring, or two levels by
 * host), and the update only once every rank reported success. A lease (heartbeat) runs beside it
 * on a thread of its own; when the ring version moves, the step in flight is aborted, never waited
 * out.
 */
import { decodeTrainingState, encodeTrainingState } from "../../model/checkpoint/mod.ts";
import { Manifest } from "../../model/data/mod.ts";
import type { Logger } from "../../model/log.ts";
import { JobConfig, type Trainer } from "../../model/train/mod.ts";
import type { StepPlan, TlsFiles, Verdict } from "../../proto/mod.ts";
import {
  ChunkMailbox,
  type ChunkSink,
  startPeerServer,
  startTcpPeerServer,
  TcpPeerClient,
} from "../collective/mod.ts";
import { CoordinatorClient } from "./coordinator_client.ts";
import { createTrainer } from "./job_data.ts";
import { Lease } from "./lease.ts";
import { PeerLinks, type PlannedAllReduce } from "./peer_links.ts";

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

/** INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNIMPLEMENTED, UNAUTHENTICATED. */
const fatalCodes = new Set([3, 5, 7, 12, 16]);

/** The least a rank waits for its neighbour's gradients (a live but stuck neighbour fails the step). */
const MIN_NEIGHBOUR_WAIT_MS = 30_000;

/** How the job ended for this worker: `failure` says why the coordinator failed it. */
export interface WorkerOutcome {
  failure?: string;
}

/**
 * Runs until the job is done. Reconnects with backoff when the coordinator restarts. The peer
 * server and the channel live as long as the process, which exits when done instead of closing
 * them (why: `ABORTING_DENO` in proto/bind.ts).
 */
export async function runTrainingWorker(o: TrainingWorkerOptions): Promise<WorkerOutcome> {
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
  // The coordinator counts a lease from the moment a worker joins: the thread that renews it must
  // be up by then, not still loading its modules.
  await lease.ready;
  // The trainer outlives a lost coordinator: a rejoining worker keeps its compiled sessions.
  const held: Held = { trainer: undefined, lostSince: undefined, retries: 0 };
  const reconnectMs = o.reconnectMs ?? 120_000;
  while (true) {
    try {
      return await session(
        o,
        client,
        lease,
        { grpc: peer.address, tcp: tcp.address },
        mailbox,
        held,
      );
    } catch (err) {
      const code = (err as { code?: number }).code;
      // A refusal (bad argument, no permission, wrong token, unknown method) is final. Any other
      // gRPC status means the coordinator went away or restarted: under Deno a dying peer shows up
      // as UNAVAILABLE, INTERNAL (RST_STREAM after EPIPE), CANCELLED or a deadline. Rejoin.
      held.lostSince ??= Date.now();
      if (code === undefined || fatalCodes.has(code) || Date.now() - held.lostSince > reconnectMs) {
        throw err;
      }
      const backoffMs = Math.min(200 * 2 ** held.retries++, 5000);
      o.log.warn("lost the coordinator; rejoining", {
        error: String((err as Error).message),
        backoffMs,
      });
      await new Promise((r) => setTimeout(r, backoffMs));
    }
  }
}

/**
 * What survives a lost coordinator: the trainer, since when the coordinator is gone, and the
 * tries to rejoin since then (the backoff starts again at each membership).
 */
interface Held {
  trainer: Trainer | undefined;
  lostSince: number | undefined;
  retries: number;
}

/** One membership: join, train until done or until the coordinator is lost. */
async function session(
  o: TrainingWorkerOptions,
  client: CoordinatorClient,
  lease: Lease,
  peer: { grpc: string; tcp: string },
  mailbox: ChunkMailbox,
  held: Held,
): Promise<WorkerOutcome> {
  const m = await Membership.join(o, client, peer, mailbox);
  held.lostSince = undefined;
  held.retries = 0;
  lease.renew(m.id, m.heartbeatMs, {
    onRingVersion: (version) => m.ringMoved(version),
    onError: (error) => m.log.warn("heartbeat failed", { error }),
  });
  try {
    const trainer = held.trainer ??= await createTrainer(o, client, m.id, m.job, m.manifest, m.log);
    return await m.train(trainer);
  } finally {
    lease.stop();
    m.close();
  }
}

/** What the coordinator answered to Join. */
interface Joined {
  worker_id: string;
  job_json: string;
  manifest_json: string;
  heartbeat_ms: number;
}

/**
 * One membership of the job, from Join to "done": each step is planned by the coordinator, run
 * (micro-batches and the ring), reported, and applied only once the coordinator commits it.
 */
class Membership {
  readonly log: Logger;
  #ringVersion = 0;
  #abort = new AbortController();
  /** Connections to the peers the plans name, kept from step to step. */
  readonly #links: PeerLinks;
  /** The all-reduce of the adopted plan: the flat ring or two levels by host. */
  #allReduce: PlannedAllReduce | undefined;
  /** The link whose payload path (socket or shared memory) was logged. */
  #announced: ChunkSink | undefined;
  /** Reported with the next AwaitStep, when the plan asked for them. */
  #hash = "";
  #valLoss = -1;
  #lastStepMs = 0;
  /** What this worker measured of the step it applied last, sent with the next AwaitStep. */
  #lastStats: Record<string, number> | undefined;
  /** The last step's all-reduce, as the ring reported it. */
  #reduced = { ms: 0, bytesSent: 0 };

  private constructor(
    readonly o: TrainingWorkerOptions,
    readonly client: CoordinatorClient,
    readonly mailbox: ChunkMailbox,
    readonly id: string,
    readonly heartbeatMs: number,
    readonly job: JobConfig,
    readonly manifest: Manifest,
  ) {
    this.log = o.log.child({ worker: id });
    this.#links = new PeerLinks({
      jobId: mailbox.jobId,
      token: o.token,
      transport: job.transport,
      sharedMemory: job.sharedMemory,
      tls: o.tls,
    });
  }

  /** Joins the job with this worker's peer addresses and device. */
  static async join(
    o: TrainingWorkerOptions,
    client: CoordinatorClient,
    peer: { grpc: string; tcp: string },
    mailbox: ChunkMailbox,
  ): Promise<Membership> {
    const joined = await client.call<Joined>(
      "Join",
      { name: o.name, peer_address: peer.grpc, tcp_address: peer.tcp, device: o.device },
    );
    const job = JobConfig.parse(JSON.parse(joined.job_json));
    if (o.tls && job.transport === "tcp") {
      throw new Error(
        'The job sends gradients over plain TCP but this worker was given TLS files: set "transport": "grpc"',
      );
    }
    const manifest = Manifest.parse(JSON.parse(joined.manifest_json));
    return new Membership(o, client, mailbox, joined.worker_id, joined.heartbeat_ms, job, manifest);
  }

  /**
   * The lease saw ring `version`: the step in flight belongs to an older ring and is aborted.
   * Versions only grow: an answer older than the step's plan (it crossed the plan on the way) is
   * stale, not a sign that the ring moved on.
   */
  ringMoved(version: number): void {
    if (version > this.#ringVersion) {
      this.#abort.abort(new Error(`ring version moved to ${version}`));
    }
  }

  /** Aborts the step in flight, if any, and closes the peer links: this membership is over. */
  close(): void {
    this.#abort.abort();
    this.#links.close();
  }

  /** Runs planned steps until the coordinator says the job is done. */
  async train(trainer: Trainer): Promise<WorkerOutcome> {
    while (true) {
      const asked = performance.now();
      const plan = await this.client.call<StepPlan>("AwaitStep", {
        worker_id: this.id,
        have_step: trainer.step,
        weights_hash: this.#hash,
        val_loss: this.#valLoss,
        last_step: this.#lastStats,
      }, 3_600_000);
      let idleMs = performance.now() - asked;
      this.#hash = "";
      this.#valLoss = -1;
      this.#lastStats = undefined;
      if (plan.done) return this.#done(trainer, plan);
      if (plan.upload_state) {
        if (trainer.step !== plan.step) {
          throw new Error(
            `Asked for the state of step ${plan.step}; the weights are at ${trainer.step}`,
          );
        }
        await this.#uploadState(trainer);
        continue;
      }
      await this.#adopt(trainer, plan);
      const started = performance.now();
      const error = await this.#runStep(trainer, plan);
      this.#lastStepMs = performance.now() - started;
      const reported = performance.now();
      const verdict = await this.client.call<Verdict>("ReportReduced", {
        worker_id: this.id,
        step: plan.step,
        ring_version: plan.ring_version,
        ok: error === undefined,
        loss: error === undefined ? trainer.lastLoss : 0,
        error: error ?? "",
      }, 3_600_000);
      idleMs += performance.now() - reported;
      if (verdict.commit) await this.#afterCommit(trainer, plan, verdict, started, idleMs);
    }
  }

  #done(trainer: Trainer, plan: StepPlan): WorkerOutcome {
    if (!plan.error) {
      this.log.info("job done", { step: trainer.step });
      return {};
    }
    this.log.error("job failed", { step: trainer.step, error: plan.error });
    return { failure: plan.error };
  }

  /** Sends this worker's state (weights, moments, position) to the coordinator. */
  async #uploadState(trainer: Trainer): Promise<void> {
    const state = encodeTrainingState(await trainer.checkpointContents());
    await this.client.upload(this.id, trainer.step, state);
    this.log.info("uploaded state", { step: trainer.step });
  }

  /** Takes the plan's place in the ring (and the coordinator's state, when told to load it). */
  async #adopt(trainer: Trainer, plan: StepPlan): Promise<void> {
    if (plan.load_state) {
      const bytes = await this.client.download("FetchState", { worker_id: this.id });
      trainer.restore(decodeTrainingState(bytes, "coordinator state"));
      this.log.info("loaded state", { step: trainer.step });
    }
    if (trainer.step !== plan.step) {
      throw new Error(`Planned step ${plan.step} but the weights are at ${trainer.step}`);
    }
    trainer.rank = plan.rank;
    trainer.worldSize = plan.world_size;
    trainer.dataPosition = plan.data_position;
    this.#ringVersion = plan.ring_version;
    this.#abort = new AbortController();
    this.#connectPeers(plan);
  }

  /**
   * Connects to the peers the plan names, keeping the connections it already has: the right
   * neighbour on the flat ring; on two levels (the coordinator grouped ranks by host) a member's
   * leader, or a leader's members and the next host's leader.
   */
  #connectPeers(plan: StepPlan): void {
    this.#allReduce = this.#links.allReduce(plan, this.mailbox);
  }

  /** The step's micro-batches and all-reduce; returns why it failed, or undefined. */
  async #runStep(trainer: Trainer, plan: StepPlan): Promise<string | undefined> {
    const allReduce = this.#allReduce!;
    const options = {
      step: plan.step,
      signal: this.#abort.signal,
      // An fp16 wire's gradients are a Float16Array, which travels as fp16, and its loss bucket as
      // fp32: the all-reduce's own choice for each buffer.
      wire: this.job.wire === "fp16" ? undefined : this.job.wire,
      // A neighbour may still be computing when this rank is ready: allow for one step's worth
      // of it, and before the first step, whose length nobody knows yet, for a long one (a loaded
      // machine can slow one rank by seconds). A dead neighbour is found sooner, by its lease
      // (the abort signal); this only bounds a live one that is stuck.
      chunkTimeoutMs: Math.ceil(
        Math.max(MIN_NEIGHBOUR_WAIT_MS, this.job.deadAfterMs, 2 * this.#lastStepMs),
      ),
    };
    try {
      this.#reduced = { ms: 0, bytesSent: 0 };
      await trainer.computeGradients(async (buf, bucket) => {
        // The whole reduce (both levels), summed over the step's buckets.
        const stats = await allReduce(buf, { ...options, bucket });
        this.#reduced.ms += stats.ms;
        this.#reduced.bytesSent += stats.bytesSent;
      });
    } catch (err) {
      const error = String((err as Error).message);
      this.log.warn("step failed", { step: plan.step, error });
      return error;
    }
    const right = this.#links.right;
    if (right instanceof TcpPeerClient && this.#announced !== right) {
      this.#announced = right;
      this.log.info("data plane", { right: right.address, payloads: await right.path() });
    }
  }

  /** Every rank succeeded: apply the update, then what the verdict and plan ask for. */
  async #afterCommit(
    trainer: Trainer,
    plan: StepPlan,
    verdict: Verdict,
    started: number,
    idleMs: number,
  ) {
    const m = trainer.applyUpdate(started);
    this.#lastStats = {
      step: trainer.step,
      compute_seconds: (this.#lastStepMs - this.#reduced.ms) / 1000,
      allreduce_seconds: this.#reduced.ms / 1000,
      allreduce_bytes: this.#reduced.bytesSent,
      idle_seconds: idleMs / 1000,
      lr: m.lr,
      loss_scale: m.loss_scale,
    };
    if (plan.rank === 0) this.log.info("step", { ...m });
    if (verdict.upload_state) await this.#uploadState(trainer);
    if (plan.report_hash) this.#hash = await trainer.weightsHash();
    if (plan.evaluate) this.#valLoss = (await trainer.evaluate()) ?? -1;
  }
}
