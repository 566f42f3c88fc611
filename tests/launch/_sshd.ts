/**
 * A throwaway OpenSSH server on 127.0.0.1 and a free port, with its own host key, one client key
 * and an ssh config in which every alias names it: several "hosts" on one machine. Fails (never
 * skips) when sshd cannot start.
 */
import { descendants, freePort, run, stopProcess } from "./_daemon.ts";
import { readUntil } from "../../model/subprocess.ts";

export interface Sshd {
  /** The ssh client config (`ssh -F`) that defines the aliases. */
  config: string;
  /** The listening sshd's process id: every session is one of its descendants. */
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/** Starts sshd; `aliases` are host names of the ssh config that all reach it. */
export async function startSshd(aliases: string[]): Promise<Sshd> {
  const dir = await Deno.makeTempDir({ prefix: "denoformer-sshd-" });
  let child: Deno.ChildProcess | undefined;
  try {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/client_key`]);
    await Deno.copyFile(`${dir}/client_key.pub`, `${dir}/authorized_keys`);
    // sshd refuses to start without its privilege separation directory (made by the service).
    await Deno.mkdir("/run/sshd", { recursive: true });
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/sshd_config`,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${dir}/host_key`,
        `AuthorizedKeysFile ${dir}/authorized_keys`,
        `PidFile ${dir}/sshd.pid`,
        "UsePAM no",
        "StrictModes no", // the keys live in a temporary directory
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "LogLevel INFO",
      ].join("\n") + "\n",
    );
    const hostKey = (await Deno.readTextFile(`${dir}/host_key.pub`)).trim();
    await Deno.writeTextFile(`${dir}/known_hosts`, `[127.0.0.1]:${port} ${hostKey}\n`);
    await Deno.writeTextFile(
      `${dir}/ssh_config`,
      [
        `Host ${aliases.join(" ")}`,
        "  HostName 127.0.0.1",
        `  Port ${port}`,
        `  IdentityFile ${dir}/client_key`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${dir}/known_hosts`,
        "  StrictHostKeyChecking yes",
        "  LogLevel ERROR",
      ].join("\n") + "\n",
    );
    child = new Deno.Command("/usr/sbin/sshd", {
      args: ["-D", "-e", "-f", `${dir}/sshd_config`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await readUntil(child.stderr, /Server listening on 127\.0\.0\.1 port/);
  } catch (err) {
    await stopProcess(child);
    await Deno.remove(dir, { recursive: true });
    throw err;
  }
  const sshd = child;
  return {
    config: `${dir}/ssh_config`,
    pid: sshd.pid,
    dir,
    async stop() {
      // Sessions outlive their listener: end any a failed test left, then the listener.
      for (const p of await descendants(sshd.pid)) {
        try {
          Deno.kill(p, "SIGKILL");
        } catch { /* gone */ }
      }
      await stopProcess(sshd);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
