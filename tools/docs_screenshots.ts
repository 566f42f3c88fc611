/**
 * The dashboard and playground pictures in docs/images, a step of `deno task docs-images`: a real
 * 2-worker run of the tiny preset on the ingested corpus, with its dashboard on. One worker is
 * killed a third of the way in and a replacement joins, so the picture shows every worker state
 * and a replayed step; the dashboard is photographed while the run still trains. Ctrl-C then ends
 * the run with a checkpoint, which is served, and the playground is photographed with a streamed
 * completion and one token's neighbours.
 *
 * @example
 * ```ts
 * await docsScreenshots({ data: "runs/docs-images/data", work: "runs/docs-images", out: "docs/images" });
 * ```
 */
import type { Page } from "puppeteer-core";
import { denoRun, readUntil, SERVE_FLAGS } from "../model/subprocess.ts";
import { launchChromium } from "./headless_browser.ts";

/** What {@linkcode docsScreenshots} works with. */
export interface ScreenshotOptions {
  /** Ingest output to train on. */
  data: string;
  /** Where the run goes (`WORK/dist`). */
  work: string;
  /** Where dashboard.png and playground.png go. */
  out: string;
  /** Steps the run is asked for (default 150); it is stopped at three quarters. */
  steps?: number;
}

const TOKEN = "docs-screenshots";
/** Hang guard of each wait; the run itself takes about a minute on 2 cores. */
const WAIT_MS = 600_000;

/** Trains, photographs the dashboard and the playground; returns the pictures' paths. */
export async function docsScreenshots(o: ScreenshotOptions): Promise<string[]> {
  const steps = o.steps ?? 150, run = `${o.work}/dist`;
  await Deno.remove(run, { recursive: true }).catch(() => {});
  await Deno.mkdir(run, { recursive: true });
  const config = `${o.work}/dist-job.json`;
  await Deno.writeTextFile(config, JSON.stringify(JOB));
  const children: Deno.ChildProcess[] = [];
  const spawn = (script: string, args: string[], denoFlags: readonly string[] = []) => {
    const env = { DENOFORMER_TOKEN: TOKEN };
    const child = denoRun(script, args, { env, stdout: "piped", stderr: "null", denoFlags })
      .spawn();
    children.push(child);
    return child;
  };
  const browser = await launchChromium();
  try {
    const coordinator = spawn("coordinator/main.ts", [
      ...["--data", o.data, "--out", run, "--config", config, "--steps", String(steps)],
      // One worker may train alone: the replacement gets the weights with the next commit.
      ...["--min-workers", "1", "--token", TOKEN, "--port", "0", "--dashboard-port", "0"],
    ]);
    const printed = await readUntil(coordinator.stdout, /^listening on \S+\n/m);
    const address = /^listening on (\S+)\n/m.exec(printed)![1];
    const dashboard = /^dashboard on (\S+)\n/m.exec(printed)![1];
    const worker = (name: string) =>
      spawn("worker/training/worker_main.ts", [
        ...["--coordinator", address, "--threads", "1", "--name", name],
        ...["--cache", `${o.work}/cache-${name}`],
      ]);
    worker("a");
    const doomed = worker("b");
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`${dashboard}?token=${TOKEN}`);
    await untilStep(page, Math.round(steps / 3));
    await page.waitForSelector('tr[data-worker$="-b"][data-state="training"]', {
      timeout: WAIT_MS,
    });
    doomed.kill("SIGKILL");
    await page.waitForSelector('tr[data-state="dead"]', { timeout: WAIT_MS });
    worker("c");
    await page.waitForSelector('tr[data-worker$="-c"][data-state="training"]', {
      timeout: WAIT_MS,
    });
    await untilStep(page, Math.round(steps * 3 / 4));
    const pictures = [`${o.out}/dashboard.png`, `${o.out}/playground.png`];
    await page.screenshot({ path: pictures[0], fullPage: true });
    coordinator.kill("SIGINT");
    await coordinator.status;

    const server = spawn(
      "worker/serve/serve_main.ts",
      ["--checkpoint", run, "--port", "0", "--http-port", "0"],
      SERVE_FLAGS,
    );
    const http = /http listening on (\S+)\n/.exec(
      await readUntil(server.stdout, /http listening on \S+\n/),
    )![1];
    await photographPlayground(page, `http://${http}/playground`, pictures[1]);
    return pictures;
  } finally {
    await browser.close();
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* it exited */ }
      await child.status;
    }
  }
}

/** The run: the tiny preset, small batches, frequent evaluations and checkpoints. */
const JOB = {
  preset: "tiny",
  train: { microBatch: 4, lr: 1e-3, warmupSteps: 10, evalEvery: 10, checkpointEvery: 40 },
  heartbeatMs: 250,
  deadAfterMs: 4000,
};

async function untilStep(page: Page, step: number): Promise<void> {
  await page.waitForFunction(`dashboard.runs[0]?.state.step >= ${step}`, {
    timeout: WAIT_MS,
    polling: 200,
  });
}

/** A seeded completion of a prompt, then the neighbours of its first whole-word token. */
async function photographPlayground(page: Page, url: string, path: string): Promise<void> {
  await page.setViewport({ width: 1400, height: 760 });
  await page.goto(url);
  await page.waitForFunction(`document.getElementById("model").textContent !== "…"`);
  const fields = { prompt: "The model", seed: "1", max_tokens: "60" };
  for (const [id, value] of Object.entries(fields)) {
    await page.$eval(`#${id}`, (e, v) => {
      (e as unknown as { value: string }).value = v;
      e.dispatchEvent(new Event("input", { bubbles: true }));
    }, value);
  }
  await page.click("#generate");
  await page.waitForFunction("playground.requests > 0", { timeout: WAIT_MS });
  const index = await page.$$eval("#completion .token", (spans) => {
    const word = spans.findIndex((s) => /^ [a-z]{4,}$/.test(s.textContent ?? ""));
    return word >= 0 ? word : 0;
  });
  await page.click(`.token[data-index="${index}"]`);
  await page.waitForSelector("#neighbours li .num", { timeout: WAIT_MS });
  await page.mouse.move(0, 0);
  await page.screenshot({ path });
}
