/**
 * Several "hosts" on one Linux machine: one network namespace each, joined through a bridge in a
 * namespace of their own (the switch) by veth pairs, every link shaped with `tc` to a rate such as
 * `10gbit` in both directions, as a NIC on a switched network. Processes run inside a host with
 * {@linkcode EmulatedHosts.command}; they reach each other at `10.250.0.(i + 1)` and nowhere else.
 *
 * Everything is created by this process under the name prefix `dfcoll-<pid>-`, and removed by
 * `close()` (also on SIGINT and SIGTERM); namespaces left by a process that died without cleaning
 * up are removed the next time hosts are created. Needs root (CAP_NET_ADMIN) and `ip` and `tc`;
 * {@linkcode emulatedHostsUnavailable} says why not where they are missing.
 *
 * @example
 * ```ts
 * await using hosts = await EmulatedHosts.create(4, { rate: "10gbit" });
 * const worker = denoRun("worker/training/worker_main.ts", args, { prefix: hosts.command(0) });
 * ```
 */

const PREFIX = "dfcoll-";
const SUBNET = "10.250.0";

/** One emulated host: its namespace and its address on the emulated network. */
export interface EmulatedHost {
  namespace: string;
  address: string;
  /** Its network interface inside the namespace. */
  interface: "eth0";
}

/** How links are shaped; both default to an unshaped veth. */
export interface LinkShape {
  /** `tc` rate of every link, each direction (`1gbit`, `10gbit`, `25gbit`). */
  rate?: string;
  /** One-way delay added on every link (`100us`); needs the kernel's netem qdisc. */
  delay?: string;
}

/** Emulated hosts; dispose of them (or call `close`) to remove every namespace and link. */
export class EmulatedHosts {
  readonly hosts: EmulatedHost[];
  readonly #switch: string;
  #shape: LinkShape = {};
  #closed = false;
  readonly #onSignal = () => {
    this.close().finally(() => Deno.exit(130));
  };

  private constructor(hosts: EmulatedHost[], switchNamespace: string) {
    this.hosts = hosts;
    this.#switch = switchNamespace;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, this.#onSignal);
    }
  }

  /** Creates `count` hosts on one switch, links shaped as `shape` says. */
  static async create(count: number, shape: LinkShape = {}): Promise<EmulatedHosts> {
    if (count < 1 || count > 200) throw new RangeError(`Hosts must be 1 to 200, got ${count}`);
    await removeLeftovers();
    const tag = `${PREFIX}${Deno.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const hosts: EmulatedHost[] = Array.from({ length: count }, (_, i) => ({
      namespace: `${tag}-h${i}`,
      address: `${SUBNET}.${i + 1}`,
      interface: "eth0",
    }));
    const emulated = new EmulatedHosts(hosts, `${tag}-sw`);
    try {
      await ip("netns", "add", emulated.#switch);
      await ip("-n", emulated.#switch, "link", "add", "br0", "type", "bridge");
      await ip("-n", emulated.#switch, "link", "set", "br0", "up");
      for (const [i, host] of hosts.entries()) await emulated.#wire(i, host);
      await emulated.shape(shape);
    } catch (err) {
      await emulated.close();
      throw err;
    }
    return emulated;
  }

  /** The current shape of every link. */
  get linkShape(): LinkShape {
    return { ...this.#shape };
  }

  /** Reshapes every link, both directions (an empty shape removes the shaping). */
  async shape(shape: LinkShape): Promise<void> {
    for (const [i, host] of this.hosts.entries()) {
      await applyShape(host.namespace, host.interface, shape);
      await applyShape(this.#switch, `h${i}`, shape);
    }
    this.#shape = { ...shape };
  }

  /** The argv that runs `argv` inside host `i` (prefix it to a command line). */
  command(i: number, argv: string[] = []): string[] {
    return ["ip", "netns", "exec", this.hosts[i].namespace, ...argv];
  }

  /** Kills whatever still runs inside the hosts, then removes them and the switch. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.removeSignalListener(signal, this.#onSignal);
    }
    for (const ns of [...this.hosts.map((h) => h.namespace), this.#switch]) {
      await removeNamespace(ns);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Host `i`'s namespace, its veth pair into the switch, its address. */
  async #wire(i: number, host: EmulatedHost): Promise<void> {
    const sw = this.#switch;
    await ip("netns", "add", host.namespace);
    // Both ends are created inside their namespaces, so no name is ever taken in the root one.
    const end = `h${i}`;
    await ip(
      "link",
      "add",
      host.interface,
      "netns",
      host.namespace,
      "type",
      "veth",
      "peer",
      "name",
      end,
      "netns",
      sw,
    );
    await ip("-n", host.namespace, "addr", "add", `${host.address}/24`, "dev", host.interface);
    await ip("-n", host.namespace, "link", "set", host.interface, "up");
    await ip("-n", host.namespace, "link", "set", "lo", "up");
    await ip("-n", sw, "link", "set", end, "master", "br0");
    await ip("-n", sw, "link", "set", end, "up");
  }
}

/**
 * Why emulated hosts cannot be made here (not root, no `ip` or `tc`, namespaces refused), or
 * undefined when they can: it creates and removes one namespace to find out.
 */
export async function emulatedHostsUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, not ${Deno.build.os}`;
  const probe = `${PREFIX}${Deno.pid}-probe`;
  try {
    await run("tc", ["-V"]);
    await ip("netns", "add", probe);
    await ip("-n", probe, "link", "set", "lo", "up");
    return undefined;
  } catch (err) {
    return `network namespaces are not available here (${(err as Error).message})`;
  } finally {
    await removeNamespace(probe);
  }
}

/** Shapes egress of `dev` in namespace `ns`: a token bucket at the rate, netem for a delay. */
async function applyShape(ns: string, dev: string, shape: LinkShape): Promise<void> {
  await run("ip", ["netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"]).catch(() => {});
  const tbf = shape.rate ? ["tbf", "rate", shape.rate, ...tokenBucket(shape.rate)] : undefined;
  const tc = (args: string[]) => run("ip", ["netns", "exec", ns, "tc", "qdisc", "add", ...args]);
  if (shape.delay) {
    await tc(["dev", dev, "root", "handle", "1:", "netem", "delay", shape.delay, "limit", "100000"])
      .catch((err) => {
        throw new Error(
          `Cannot add a delay of "${shape.delay}" (this kernel may lack the netem qdisc): ${err.message}`,
        );
      });
    if (tbf) await tc(["dev", dev, "parent", "1:", "handle", "2:", ...tbf]);
  } else if (tbf) {
    await tc(["dev", dev, "root", ...tbf]);
  }
}

/**
 * The bucket and queue of a token-bucket filter at `rate`: a burst of 1 ms at the rate (at least
 * 64 KiB, so one segmentation-offloaded packet fits) and a queue of 5 ms.
 */
function tokenBucket(rate: string): string[] {
  const bitsPerSecond = parseRate(rate);
  const burst = Math.max(64 * 1024, Math.ceil(bitsPerSecond / 8 / 1000));
  return ["burst", String(burst), "latency", "5ms"];
}

/** `tc`'s rate syntax, in bits per second. */
export function parseRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)(bit|bps)$/i.exec(rate.trim());
  if (!m) throw new RangeError(`Link rate "${rate}" is not a tc rate such as "10gbit"`);
  const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2].toLowerCase()]!;
  return Number(m[1]) * scale * (m[3].toLowerCase() === "bps" ? 8 : 1);
}

/** Removes namespaces this prefix left behind by processes that are no longer alive. */
async function removeLeftovers(): Promise<void> {
  const listed = await run("ip", ["netns", "list"]);
  for (const line of listed.split("\n")) {
    const name = line.split(" ")[0];
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid && !(await alive(Number(pid)))) await removeNamespace(name);
  }
}

async function alive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Kills the processes inside namespace `ns`, then deletes it (and the links inside it). */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await run("ip", ["netns", "pids", ns]).catch(() => "");
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  await run("ip", ["netns", "del", ns]).catch(() => {});
}

function ip(...args: string[]): Promise<string> {
  return run("ip", args);
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${text.decode(out.stderr).trim() || out.code}`);
  }
  return text.decode(out.stdout);
}
