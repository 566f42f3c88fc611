/**
 * The host agent: what `deno task launch` runs on each host (over ssh) and here (for a local
 * coordinator). It reads an `AgentSpec` line from stdin, starts those processes with the job token
 * in their environment, relays their output with each one's label, and stops them all when stdin
 * ends: the launcher closing it, the launcher dying (even by SIGKILL), and the ssh connection
 * dropping all end it, which is what makes sure no worker outlives its job. Without this, a
 * process started over ssh keeps running after the connection is gone: sshd sends no signal to a
 * session without a terminal, and a worker would wait minutes for its lost coordinator.
 *
 * Exits with 0 when every process succeeded, else with the first failure's exit code.
 */
import { reportAndExit } from "../../model/cli.ts";
import { AgentControl, AgentSpec } from "./agent_protocol.ts";
import { readLines } from "../../model/subprocess.ts";
import { Supervisor } from "./supervise.ts";

if (import.meta.main) await main().catch(reportAndExit);

async function main(): Promise<void> {
  const input = readLines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) return; // the launcher went away before it said anything
  const spec = AgentSpec.parse(JSON.parse(first.value));
  const supervisor = new Supervisor(spec.processes, spec.token);
  const stop = () => supervisor.stop();
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, stop);
  }
  (async () => {
    for await (const line of input) {
      supervisor.signal(AgentControl.parse(JSON.parse(line)).signal);
    }
    await stop();
  })().catch(async (err) => {
    await stop();
    reportAndExit(err);
  });
  Deno.exit(await supervisor.done);
}
