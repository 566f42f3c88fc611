/**
 * What `ps` would show: every process's command line and environment, read from /proc, for tests
 * that check that a secret stays off command lines and that nothing outlives a job.
 */

/** A process as /proc shows it: its id, parent, command line (NULs as spaces) and environment. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  commandLine: string;
  environment: string;
}

/** Every process on this host that can still be read (one may exit while it is being read). */
export async function processes(): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const [cmdline, environ, stat] = await Promise.all([
        Deno.readFile(`/proc/${entry.name}/cmdline`),
        Deno.readFile(`/proc/${entry.name}/environ`),
        Deno.readTextFile(`/proc/${entry.name}/stat`),
      ]);
      const text = (b: Uint8Array) => new TextDecoder().decode(b).replaceAll("\0", " ");
      found.push({
        pid: Number(entry.name),
        // The command name in parentheses may hold spaces: the fields after it are fixed.
        ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]),
        commandLine: text(cmdline),
        environment: text(environ),
      });
    } catch { /* it exited */ }
  }
  return found;
}

/** "PID: command line" of every process whose command line contains `text`. */
export async function commandLinesContaining(text: string): Promise<string[]> {
  return (await processes())
    .filter((p) => p.commandLine.includes(text))
    .map((p) => `${p.pid}: ${p.commandLine}`);
}

/**
 * Reads every process's command line and environment again and again until stopped: what the
 * scans found holding `secret` on a command line (should be nothing), and the most processes that
 * held it in their environment at once (proof that the scans saw the processes that had it).
 */
export function watchSecret(
  secret: string,
  everyMs = 100,
): { stop(): Promise<{ onCommandLines: string[]; mostHolders: number }> } {
  const onCommandLines = new Set<string>();
  let mostHolders = 0, running = true;
  const loop = (async () => {
    while (running) {
      const all = await processes();
      for (const p of all) if (p.commandLine.includes(secret)) onCommandLines.add(p.commandLine);
      mostHolders = Math.max(mostHolders, all.filter((p) => p.environment.includes(secret)).length);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { onCommandLines: [...onCommandLines], mostHolders };
    },
  };
}

/**
 * Waits until no process matches `left` (polling; `deadlineMs` only guards against a hang) and
 * returns what still matched at the deadline: `[]` means none was left behind.
 */
export async function waitUntilGone(
  left: (p: ProcessInfo) => boolean,
  deadlineMs = 60_000,
): Promise<string[]> {
  const end = Date.now() + deadlineMs;
  while (true) {
    const still = (await processes()).filter(left).map((p) => `${p.pid}: ${p.commandLine}`);
    if (still.length === 0 || Date.now() > end) return still;
    await new Promise((r) => setTimeout(r, 250));
  }
}
