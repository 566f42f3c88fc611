/** A tiny job for the launch tests, and the launcher run as a real process. */
import { ingestLicence, tinyJob } from "../_tiny_job.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The tiny job, with a checkpoint every 2 steps to resume from. */
const job = { ...tinyJob, train: { ...tinyJob.train, checkpointEvery: 2 }, hashEvery: 2 };

/** A directory with the job's data (`data/`), config (`job.json`) and a token file (`token`). */
export interface JobDir {
  dir: string;
  data: string;
  config: string;
  token: string;
  tokenFile: string;
  remove(): Promise<void>;
}

export async function makeJobDir(): Promise<JobDir> {
  const dir = await Deno.makeTempDir({ prefix: "denoformer-launch-" });
  await ingestLicence(`${dir}/data`);
  await Deno.writeTextFile(`${dir}/job.json`, JSON.stringify(job));
  const token = `token-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${dir}/token`, `${token}\n`, { mode: 0o600 });
  return {
    dir,
    data: `${dir}/data`,
    config: `${dir}/job.json`,
    token,
    tokenFile: `${dir}/token`,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * `deno task launch ARGS` as its own process (`deno task`, whose child is the launcher); `output`
 * collects all it prints.
 */
export function launch(args: string[], env: Record<string, string> = {}): {
  child: Deno.ChildProcess;
  output: Promise<string>;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "launch", ...args],
    cwd: root,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const collect = async (s: ReadableStream<Uint8Array>) => {
    let text = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
    return text;
  };
  const output = Promise.all([collect(child.stdout), collect(child.stderr)]).then((t) =>
    t.join("")
  );
  return { child, output };
}

/** The step of RUN's latest checkpoint, or 0 before the first. */
export async function latestCheckpoint(run: string): Promise<number> {
  const latest = await Deno.readTextFile(`${run}/checkpoints/latest`).catch(() => "");
  return Number(/step-(\d+)/.exec(latest)?.[1] ?? 0);
}
