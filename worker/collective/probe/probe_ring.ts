/**
 * Spawns a ring of all-reduce probe processes (probe_main.ts) on this machine and drives them
 * with JSON-line commands. Used by the transport tests and `bench/allreduce.ts`.
 *
 * @example
 * ```ts
 * await using ring = await spawnProbeRing(3, { token: "t" });
 * const replies = await ring.all(() => ({ cmd: "allreduce", length: 1001, options: { step: 1 } }));
 * ```
 */
import type { EmulatedHosts } from "./emulated_hosts.ts";
import type { Transport } from "./protocol.ts";
import { denoRun, readLines } from "../../../model/subprocess.ts";
import { twoLevelPlaces } from "../../../proto/mod.ts";

const PROBE = new URL("./probe_main.ts", import.meta.url);

/** Where a probe runs: a command prefix (e.g. `ip netns exec NS`) and the address it binds. */
export interface ProbePlace {
  prefix: string[];
  host: string;
}

const LOOPBACK: ProbePlace = { prefix: [], host: "127.0.0.1" };

/** One probe process. */
export class ProbeProcess {
  readonly rank: number;
  readonly address: string;
  readonly child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #stderr: string[] = [];

  constructor(
    rank: number,
    address: string,
    child: Deno.ChildProcess,
    lines: AsyncIterator<string>,
    stderr: string[],
  ) {
    this.rank = rank;
    this.address = address;
    this.child = child;
    this.#lines = lines;
    this.#stderr = stderr;
    this.#writer = child.stdin.getWriter();
  }

  /** Sends one command and waits for its JSON reply. */
  async send(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const next = await this.#lines.next();
    if (next.done) {
      throw new Error(
        `Probe rank ${this.rank} exited; stderr tail:\n${this.#stderr.join("").slice(-2000)}`,
      );
    }
    return JSON.parse(next.value);
  }

  /** Its stderr so far (JSON log lines). */
  get stderr(): string {
    return this.#stderr.join("");
  }

  /** Sends `signal` to the process (SIGKILL to simulate a crash). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Asks it to exit, killing it if it does not within a second. */
  async close(): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode(`{"cmd":"exit"}\n`));
      await this.#writer.close();
    } catch {
      // stdin already closed: the process is gone or going
    }
    const timer = setTimeout(() => this.kill(), 1000);
    await this.child.status;
    clearTimeout(timer);
  }
}

/** A ring of probe processes, rank i's right neighbour being rank (i + 1) mod n. */
export class ProbeRing {
  constructor(
    readonly procs: ProbeProcess[],
    readonly job: string,
    readonly token: string,
    readonly transport: Transport,
    readonly placeOf: (rank: number) => ProbePlace = () => LOOPBACK,
  ) {}

  /** Whether the probes run in emulated hosts (not all on 127.0.0.1). */
  get emulated(): boolean {
    return this.procs.some((p) => this.placeOf(p.rank).prefix.length > 0);
  }

  /**
   * Replaces rank `rank` with a fresh process (after a crash), then re-forms the ring under
   * `ringVersion` so chunks of the aborted ring can never mix with the new one.
   */
  async respawn(rank: number, ringVersion: number): Promise<void> {
    this.procs[rank].kill();
    await this.procs[rank].child.status;
    this.procs[rank] = await spawnProbe(
      rank,
      this.procs.length,
      this.job,
      this.token,
      this.transport,
      this.placeOf(rank),
    );
    await this.connect(ringVersion);
  }

  /**
   * Points each rank at rank (r + 1) mod n; shared memory is offered only to a neighbour on the
   * same (emulated) host.
   */
  connect(ringVersion = 0): Promise<Record<string, unknown>[]> {
    const n = this.procs.length;
    return this.all((r) => ({
      cmd: "connect",
      right: this.procs[(r + 1) % n].address,
      ringVersion,
      sharedMemory: this.transport === "shm" &&
        this.placeOf(r).host === this.placeOf((r + 1) % n).host,
    }));
  }

  /**
   * Forms a two-level ring over `ranks`, grouped by `hostOf` as the coordinator groups a job's
   * workers by host (see `twoLevelPlaces`). Replies in the order of `ranks`.
   */
  hierarchy(
    hostOf: (rank: number) => number,
    ringVersion = 0,
    ranks: number[] = this.procs.map((p) => p.rank),
  ): Promise<Record<string, unknown>[]> {
    const sorted = [...ranks].sort((a, b) => a - b);
    const places = twoLevelPlaces(sorted, hostOf, (rank) => this.procs[rank].address);
    return this.all((rank) => {
      const { index, size, peers, hosts } = places.get(rank)!;
      return {
        cmd: "hierarchy",
        ringVersion,
        worldSize: ranks.length,
        index,
        size,
        peers,
        hosts: hosts && { rank: hosts.rank, worldSize: hosts.count, right: hosts.right },
      };
    }, ranks);
  }

  /** Sends `commandFor(rank)` to every live rank at once; replies in rank order. */
  all(
    commandFor: (rank: number) => Record<string, unknown>,
    ranks: number[] = this.procs.map((p) => p.rank),
  ): Promise<Record<string, unknown>[]> {
    return Promise.all(ranks.map((r) => this.procs[r].send(commandFor(r))));
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Where the probes of a ring run. */
export interface ProbeRingOptions {
  job?: string;
  token?: string;
  connect?: boolean;
  transport?: Transport;
  /** Emulated hosts to run in (else all on 127.0.0.1). */
  hosts?: EmulatedHosts;
  /** Which of `hosts` rank r runs on (default: host r). */
  hostOf?: (rank: number) => number;
}

/**
 * Starts `worldSize` probes with port 0 (on 127.0.0.1, or each in its emulated host), waits for
 * each `listening on HOST:PORT`, and (unless `connect` is false) points each at its right
 * neighbour.
 */
export async function spawnProbeRing(
  worldSize: number,
  options: ProbeRingOptions = {},
): Promise<ProbeRing> {
  const job = options.job ?? "probe-job";
  const token = options.token ?? "probe-token";
  const transport = options.transport ?? "grpc";
  const { hosts, hostOf = (r: number) => r } = options;
  const placeOf = (rank: number): ProbePlace => {
    if (!hosts) return LOOPBACK;
    const h = hostOf(rank);
    return { prefix: hosts.command(h), host: hosts.hosts[h].address };
  };
  const procs = await Promise.all(
    Array.from(
      { length: worldSize },
      (_, rank) => spawnProbe(rank, worldSize, job, token, transport, placeOf(rank)),
    ),
  );
  const ring = new ProbeRing(procs, job, token, transport, placeOf);
  if (options.connect ?? true) await ring.connect();
  return ring;
}

async function spawnProbe(
  rank: number,
  worldSize: number,
  job: string,
  token: string,
  transport: Transport,
  place: ProbePlace,
): Promise<ProbeProcess> {
  const child = denoRun(PROBE, [
    "--rank",
    String(rank),
    "--world",
    String(worldSize),
    "--job",
    job,
    "--token",
    token,
    "--transport",
    transport,
    "--host",
    place.host,
  ], { prefix: place.prefix, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const stderr: string[] = [];
  (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr.push(text);
      if (stderr.length > 200) stderr.splice(0, 100);
    }
  })();
  const lines = readLines(child.stdout);
  const first = await lines.next();
  const match = first.done ? null : /^listening on (\S+)$/.exec(first.value);
  if (!match) {
    child.kill("SIGKILL");
    throw new Error(`Probe rank ${rank} did not start: ${first.value}\n${stderr.join("")}`);
  }
  return new ProbeProcess(rank, match[1], child, lines, stderr);
}
