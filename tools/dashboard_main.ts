/**
 * `deno task dashboard --run RUN [--run RUN2 …]`: the training dashboard for runs on disk,
 * finished or training in another process (their files are followed as they grow). Two or more
 * runs are overlaid on the same charts. docs/dashboard.md shows it.
 */
import { parseArgs } from "node:util";
import { InputError } from "../model/errors.ts";
import { intFlag, runCli, secretFlag } from "../model/cli.ts";
import { followRunDir, RunView, startDashboard } from "../coordinator/dashboard/mod.ts";

const usage = `Usage: deno task dashboard --run RUN [--run RUN2 …] [options]

  --run RUN          a run directory (deno task train or deno task coordinator); repeat it to
                     overlay runs
  --host HOST        interface (default 127.0.0.1)
  --port P           port (default 0: a free one, printed)
  --token-file F     require the secret in this file (a bearer header, or the page's login
                     form); or DENOFORMER_TOKEN, or --token T (shows in ps)
`;

if (import.meta.main) await runCli(main);

async function main(args: string[]): Promise<void> {
  const { values: f } = parseArgs({
    args,
    options: {
      run: { type: "string", multiple: true },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      token: { type: "string" },
      "token-file": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (f.help) return console.log(usage);
  if (!f.run?.length) throw new InputError("--run", "give at least one run directory");
  for (const run of f.run) await checkRunDir(run);
  const views = f.run.map((run) => new RunView(run));
  await Promise.all(views.map((view, i) => followRunDir(view, f.run![i]).ready));
  const dashboard = startDashboard(views, {
    host: f.host!,
    port: intFlag(f.port, "--port")!,
    token: await secretFlag(f, "token", "DENOFORMER_TOKEN"),
    flag: "--port",
  });
  console.log(`dashboard on ${dashboard.url}`);
}

async function checkRunDir(run: string): Promise<void> {
  const hint = "expected a run directory holding metrics.jsonl";
  try {
    if (!(await Deno.stat(run)).isDirectory) throw new InputError("--run", `"${run}": ${hint}`);
    await Deno.stat(`${run}/metrics.jsonl`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new InputError("--run", `"${run}" not found: ${hint}`, { cause: err });
  }
}
