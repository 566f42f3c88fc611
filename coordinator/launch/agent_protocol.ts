/**
 * What the launcher tells a host agent on its standard input: one JSON line with the job token and
 * the processes to run, then control lines (`{"signal":"SIGINT"}`). The end of the input is the
 * order to stop: it comes when the launcher closes the pipe, dies, or loses the ssh connection.
 */
import { z } from "zod";

export const AgentSpec = z.object({
  token: z.string().min(1),
  processes: z.array(
    z.object({
      label: z.string().min(1),
      script: z.string().min(1),
      args: z.array(z.string()),
    }).strict(),
  ).min(1),
}).strict();
export type AgentSpec = z.infer<typeof AgentSpec>;

/** A control line: a signal to pass on to every process the agent runs. */
export const AgentControl = z.object({ signal: z.enum(["SIGINT", "SIGTERM"]) }).strict();
export type AgentControl = z.infer<typeof AgentControl>;
