/**
 * Which hosts run how many workers: `--hosts a:2,b:2` as Horovod's `-H` takes it, or a hostfile as
 * DeepSpeed and Horovod write it (`host slots=N` per line, `#` comments). A host without a count
 * runs one worker.
 */
import { InputError } from "../../model/errors.ts";

/** A host as ssh knows it (a name, an alias of ssh's config, or `user@host`) and its worker count. */
export interface HostSlots {
  host: string;
  slots: number;
}

/** Parses `--hosts host1:slots,host2:slots`. */
export function parseHostList(text: string, flag = "--hosts"): HostSlots[] {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const hosts = entries.map((entry) => {
    const m = /^([^\s:]+)(?::(\S+))?$/.exec(entry);
    if (!m) throw new InputError(flag, `expected HOST or HOST:SLOTS, got "${entry}"`);
    return { host: hostName(m[1], flag), slots: slotCount(m[2], flag) };
  });
  return checked(hosts, flag);
}

/**
 * Parses a hostfile: per line `host slots=N` (DeepSpeed, Horovod), `host:N` or `host`; blank lines
 * and `#` comments are skipped. Errors name the file and line.
 */
export function parseHostfile(text: string, path: string): HostSlots[] {
  const hosts: HostSlots[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const where = `${path}:${i + 1}`;
    const m = /^([^\s:]+)(?:\s+slots\s*=\s*(\S+)|:(\S+))?$/.exec(line);
    if (!m) throw new InputError(where, `expected "HOST slots=N", got "${line}"`);
    hosts.push({ host: hostName(m[1], where), slots: slotCount(m[2] ?? m[3], where) });
  });
  return checked(hosts, path);
}

function hostName(text: string, where: string): string {
  // ssh would read a leading "-" as an option.
  if (!/^[\w.@-]+$/.test(text) || text.startsWith("-")) {
    throw new InputError(where, `"${text}" is not a host name`);
  }
  return text;
}

function slotCount(text: string | undefined, where: string): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError(where, `slots must be a positive integer, got "${text}"`);
  }
  return n;
}

function checked(hosts: HostSlots[], where: string): HostSlots[] {
  if (hosts.length === 0) throw new InputError(where, "names no host");
  const seen = new Set<string>();
  for (const { host } of hosts) {
    if (seen.has(host)) throw new InputError(where, `"${host}" is listed twice`);
    seen.add(host);
  }
  return hosts;
}
