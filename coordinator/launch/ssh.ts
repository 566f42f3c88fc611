/** How the launcher runs commands on other hosts: the system's `ssh`, with the user's own config. */

export interface SshOptions {
  /** An ssh config file to use instead of ~/.ssh/config (`ssh -F`). */
  config?: string;
}

/**
 * ssh's arguments to run `command` on `host`: no terminal (the output stays two clean streams and
 * stdin stays a pipe the remote side can see close), never a password prompt, and a dead
 * connection noticed within a minute.
 */
export function sshArgs(host: string, command: string, o: SshOptions): string[] {
  return [
    ...(o.config ? ["-F", o.config] : []),
    "-T",
    ...["-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"],
    host,
    command,
  ];
}

/** `text` as one word of a POSIX shell command. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Runs `command` on `host` to the end and returns its exit code and output. */
export async function sshOutput(
  host: string,
  command: string,
  o: SshOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("ssh", {
    args: sshArgs(host, command, o),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}
