/**
 * Before anything starts: does every host have the project, the same Deno and the same deno.lock
 * as this one? One ssh round trip per host, all at once; the error names each host that differs and
 * how. The same trip tells the addresses each side sees the other by, and the host's core count.
 */
import { InputError } from "../../model/errors.ts";
import { sha256Hex } from "../../model/sha256.ts";
import { scripts } from "./scripts.ts";
import { shellQuote, type SshOptions, sshOutput } from "./ssh.ts";

/** What a host that can run the job reported. */
export interface HostFacts {
  host: string;
  /** This machine's address as the host sees it (ssh's client address): where it dials us. */
  launcherAddress: string;
  /** The host's address as this machine reached it (ssh's server address): where others dial it. */
  address: string;
  cpus: number;
}

/** What every host must match: this machine's Deno version and deno.lock. */
export interface Reference {
  deno: string;
  lockSha256: string;
}

/** Files a host's checkout must hold: the entry points the launcher runs, and the installed deps. */
const required = ["deno.json", "deno.lock", "node_modules", ...Object.values(scripts)];

/** This machine's Deno and the sha256 of this checkout's deno.lock. */
export async function localReference(): Promise<Reference> {
  const lock = await Deno.readFile(new URL("../../deno.lock", import.meta.url));
  return { deno: Deno.version.deno, lockSha256: await sha256Hex(lock) };
}

/**
 * Checks every host over ssh (the project at `dir`, Deno at `deno` on the host) and returns their
 * facts, or throws an InputError on `flag` that lists every host that cannot run the job.
 */
export async function preflight(
  hosts: string[],
  o: { dir: string; deno: string; ssh: SshOptions; reference: Reference; flag: string },
): Promise<Map<string, HostFacts>> {
  const script = checkScript(o.dir, o.deno);
  const judged = await Promise.all(hosts.map(async (host) => {
    const out = await sshOutput(host, script, o.ssh);
    if (out.code !== 0) {
      const why = out.stderr.trim().split("\n").at(-1) || `exit code ${out.code}`;
      return `${host}: ssh failed: ${why}`;
    }
    return judgeHost(host, out.stdout, o.reference, o.dir);
  }));
  const problems = judged.filter((j) => typeof j === "string");
  if (problems.length > 0) {
    throw new InputError(
      o.flag,
      `${problems.length} of ${hosts.length} hosts cannot run the job:\n  ${problems.join("\n  ")}`,
    );
  }
  return new Map((judged as HostFacts[]).map((f) => [f.host, f]));
}

/** A POSIX shell script that prints `key=value` lines about the checkout at `dir`. */
export function checkScript(dir: string, deno: string): string {
  return [
    `cd ${shellQuote(dir)} 2>/dev/null || { echo nodir=1; exit 0; }`,
    `for f in ${required.join(" ")}; do [ -e "$f" ] || echo "missing=$f"; done`,
    `echo "deno=$(${shellQuote(deno)} --version 2>/dev/null | head -n 1)"`,
    `echo "lock=$(sha256sum deno.lock 2>/dev/null | cut -d ' ' -f 1)"`,
    `echo "ssh=$SSH_CONNECTION"`,
    `echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"`,
  ].join("\n");
}

/** A host's facts from the output of `checkScript`, or what is wrong with it. */
export function judgeHost(
  host: string,
  output: string,
  reference: Reference,
  dir: string,
): HostFacts | string {
  const said = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) {
      said.set(line.slice(0, eq), [...said.get(line.slice(0, eq)) ?? [], line.slice(eq + 1)]);
    }
  }
  const one = (key: string) => said.get(key)?.[0] ?? "";
  if (said.has("nodir")) return `${host}: no project at "${dir}" (give --remote-dir)`;
  const missing = said.get("missing");
  if (missing) {
    return `${host}: "${dir}" has no ${missing.join(", ")} (not a checkout, or not installed: ` +
      "deno install --frozen)";
  }
  const deno = /^deno (\S+)/.exec(one("deno"))?.[1];
  if (!deno) return `${host}: no Deno on the PATH ssh gives (give --remote-deno PATH)`;
  if (deno !== reference.deno) return `${host}: Deno ${deno}, but ${reference.deno} here`;
  if (one("lock") !== reference.lockSha256) {
    return `${host}: deno.lock differs (sha256 ${one("lock").slice(0, 12)}…, ` +
      `${reference.lockSha256.slice(0, 12)}… here): other dependencies`;
  }
  const [launcherAddress, , address] = one("ssh").split(" ");
  if (!address) return `${host}: ssh did not say which addresses it connected (no SSH_CONNECTION)`;
  return { host, launcherAddress, address, cpus: Math.max(1, Number(one("cpus")) || 1) };
}
