/**
 * The training dashboard in a real browser (Debian's Chromium under puppeteer-core) during a real
 * 2-worker run on 127.0.0.1: refusals without the job token, the loss chart growing, a killed
 * worker shown dead and then replaced, the page's numbers equal to the run's files at the end,
 * and `deno task dashboard` overlaying the finished run with another. Every request the pages make
 * goes to their server. Deadlines here are hang guards only.
 */
import assert from "node:assert/strict";
import type { Browser, HTTPRequest, Page } from "puppeteer-core";
import { listStepDirs } from "../../../model/checkpoint/mod.ts";
import { denoRun, readUntil } from "../../../model/subprocess.ts";
import { launchChromium } from "../../../tools/headless_browser.ts";
import { signIn } from "../../_browser.ts";
import { readStepRecords } from "../../_run_files.ts";
import { ingestLicences, workerArgs, writeTinyJob } from "../../_tiny_job.ts";

const TOKEN = "dashboard-token";
const HANG_GUARD_MS = 120_000;

Deno.test({
  name:
    "the dashboard in Chromium follows a 2-worker run: token required, loss chart growing, a killed worker dead then replaced, the files' numbers at the end, and a finished run overlaid with another",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "dashboard_test_" });
  const run = `${dir}/run`;
  const children: Deno.ChildProcess[] = [];
  const spawn = (script: string, args: string[]) => {
    const child = denoRun(script, args, {
      env: { DENOFORMER_TOKEN: TOKEN },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    children.push(child);
    return child;
  };
  const worker = (name: string) =>
    spawn("worker/training/worker_main.ts", workerArgs(address, name, `${dir}/cache-${name}`));
  let address = "";
  let browser: Browser | undefined;
  const steps = { sanitizeOps: false, sanitizeResources: false, sanitizeExit: false };
  const requests: HTTPRequest[] = [];
  try {
    await ingestLicences(`${dir}/data`);
    await writeTinyJob(`${dir}/job.json`, { evalEvery: 5, checkpointEvery: 10 });
    const coordinator = spawn("coordinator/main.ts", [
      ...["--data", `${dir}/data`, "--out", run, "--config", `${dir}/job.json`],
      // One worker may train alone: a replacement gets the weights with the next commit (with
      // --min-workers 2 no step could commit while it waits for them).
      ...["--steps", "100000", "--min-workers", "1", "--token", TOKEN, "--port", "0"],
      ...["--dashboard-port", "0"],
    ]);
    const printed = await readUntil(coordinator.stdout, /^listening on (\S+)\n/m);
    address = /^listening on (\S+)\n/m.exec(printed)![1];
    const url = /^dashboard on (\S+)\n/m.exec(printed)![1];
    assert.ok(printed.startsWith("dashboard on "), "the dashboard's URL comes first");
    assert.ok(!url.includes(TOKEN), "a token given on the command line is not printed");
    worker("a");
    const b = worker("b");
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on("request", (r) => requests.push(r));

    await t.step({
      ...steps,
      name: "a missing or wrong token is refused",
      fn: async () => {
        for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
          for (const path of ["api/state", "api/stream"]) {
            const res = await fetch(`${url}${path}`, { headers });
            assert.equal(res.status, 401, path);
            assert.match((await res.json()).error, /(Missing|Wrong) job token/);
          }
        }
        const right = await fetch(`${url}api/state`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(right.status, 200);
        assert.equal((await right.json()).runs.length, 1);
        const wrongLink = await fetch(`${url}?token=wrong`);
        assert.equal(wrongLink.status, 401);
        assert.match(await wrongLink.text(), /Wrong job token/);
        assert.equal((await page.goto(url))!.status(), 401);
        await signIn(page, "wrong");
        assert.match(await page.$eval(".error", (e) => e.textContent!), /Wrong job token/);
        assert.equal(await page.$("#chart-loss"), null, "no dashboard without the token");
        await signIn(page, TOKEN);
        await page.waitForSelector("#chart-loss");
      },
    });

    await t.step({
      ...steps,
      name: "the loss chart gains points while the run trains",
      fn: async () => {
        const points = () =>
          page.evaluate(
            `dashboard.charts.loss.plot?.data[1].filter((v) => v != null).length ?? 0`,
          ) as Promise<number>;
        await page.waitForFunction(
          `(dashboard.charts.loss.plot?.data[1].filter((v) => v != null).length ?? 0) >= 2`,
          { timeout: HANG_GUARD_MS },
        );
        const before = await points();
        await page.waitForFunction(
          `dashboard.charts.loss.plot.data[1].filter((v) => v != null).length > ${before}`,
          { timeout: HANG_GUARD_MS },
        );
        console.log(`loss chart: ${before} points, then ${await points()}`);
        assert.equal(await page.$eval("[data-status]", (e) => e.textContent), "training");
      },
    });

    await t.step({
      ...steps,
      name: "killing a worker shows it dead, then replaced by the one started in its place",
      fn: async () => {
        const rowOf = async (name: string) => {
          await page.waitForSelector(`tr[data-worker$="-${name}"]`, { timeout: HANG_GUARD_MS });
          return await page.$eval(
            `tr[data-worker$="-${name}"]`,
            (e) => e.getAttribute("data-worker")!,
          );
        };
        const killed = await rowOf("b");
        await waitForState(page, killed, "training");
        // Every state the row shows from now on, in order.
        await page.evaluate(`
          globalThis.seen = [];
          setInterval(() => {
            const s = document.querySelector('tr[data-worker="${killed}"]')?.dataset.state;
            if (s && s !== seen.at(-1)) seen.push(s);
          }, 25);
        `);
        b.kill("SIGKILL");
        await waitForState(page, killed, "dead");
        worker("c");
        await waitForState(page, killed, "replaced");
        const replacement = await rowOf("c");
        assert.deepEqual(await page.evaluate("seen"), ["training", "dead", "replaced"]);
        const row = await page.$eval(`tr[data-worker="${killed}"]`, (e) => e.textContent!);
        assert.ok(row.includes(`by ${replacement}`), row);
        await waitForState(page, replacement, "training");
        const device = await page.$eval(
          `tr[data-worker="${replacement}"] td:nth-child(2)`,
          (e) => e.textContent,
        );
        assert.equal(device, "cpu");
      },
    });

    await t.step({
      ...steps,
      name:
        "after Ctrl-C the page holds the run's files: last loss, ring, aborted and replayed steps, checkpoints",
      fn: async () => {
        coordinator.kill("SIGINT");
        await page.waitForFunction(
          `document.querySelector("[data-status]")?.dataset.status === "finished"`,
          { timeout: HANG_GUARD_MS },
        );
        assert.equal((await coordinator.status).code, 0);
        const lines = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n").map((
          l,
        ) => JSON.parse(l));
        const losses = lines.filter((l) => typeof l.loss === "number");
        const chart = await page.evaluate(
          `dashboard.charts.loss.plot.data[1].filter((v) => v != null)`,
        ) as number[];
        assert.equal(
          chart.at(-1),
          losses.at(-1).loss,
          "the chart ends at metrics.jsonl's last loss",
        );
        assert.equal(chart.length, losses.length, "one point per step (too few to decimate)");
        assert.equal(
          await page.$eval('[data-stat="last-loss"] dd', (e) => e.textContent),
          losses.at(-1).loss.toFixed(4),
        );
        const records = await readStepRecords(run);
        const last = records.at(-1)!;
        const ring = await page.$$eval(
          ".ring-node .mono",
          (nodes) => nodes.map((n) => n.textContent),
        );
        assert.deepEqual(ring, last.ranges.map((r) => r.worker), "the ring's order");
        assert.equal(
          await page.$eval("[data-ring-version]", (e) => e.getAttribute("data-ring-version")),
          String(last.ring_version),
        );
        const aborted = records.filter((r) => !r.committed);
        const replayed = new Set(
          aborted.filter((x) => records.some((r) => r.committed && r.step === x.step)).map((x) =>
            x.step
          ),
        );
        assert.equal(await stat(page, "aborted"), String(aborted.length));
        assert.equal(await stat(page, "replayed"), String(replayed.size));
        console.log(
          `${records.length} steps recorded, ${aborted.length} aborted, ${replayed.size} replayed`,
        );
        const kept = (await listStepDirs(`${run}/checkpoints`)).map((d) => String(d.step));
        const shown = await page.$$eval(
          "tr[data-checkpoint]:not(.muted)",
          (rows) => rows.map((r) => r.getAttribute("data-checkpoint")!),
        );
        assert.deepEqual(shown.sort(), kept.sort(), "the checkpoints on disk");
        await page.screenshot({ path: `${dir}/live.png`, fullPage: true });
      },
    });

    await t.step({
      ...steps,
      name: "deno task dashboard overlays the finished run and another from their files",
      fn: async () => {
        const other = await makeOtherRun(dir);
        const offline = spawn("tools/dashboard_main.ts", [
          "--run",
          run,
          "--run",
          other,
          "--token",
          TOKEN,
        ]);
        const served =
          /dashboard on (\S+)\n/.exec(await readUntil(offline.stdout, /dashboard on \S+\n/))![1];
        await page.goto(`${served}?token=${TOKEN}`);
        await page.waitForFunction(
          `dashboard.runs.length === 2 && dashboard.charts.loss.plot?.series.length === 5`,
          { timeout: HANG_GUARD_MS },
        );
        const labels = await page.evaluate(`dashboard.charts.loss.plot.series.map((s) => s.label)`);
        const base = dir.split("/").pop();
        const curves = ["run train", "run validation", "other train", "other validation"];
        assert.deepEqual(labels, ["step", ...curves.map((c) => `${base}/${c}`)]);
        const lastOf = (series: number) =>
          page.evaluate(
            `dashboard.charts.loss.plot.data[${series}].filter((v) => v != null).at(-1)`,
          );
        const losses = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n").map((
          l,
        ) => JSON.parse(l)).filter((l) => typeof l.loss === "number");
        assert.equal(await lastOf(1), losses.at(-1).loss);
        assert.equal(await lastOf(3), 2.5, "the other run's last loss");
        const states = await page.$$eval(
          ".run-details:first-child tr[data-worker]",
          (rows) => rows.map((r) => r.getAttribute("data-state")),
        );
        assert.deepEqual(
          states.sort(),
          ["replaced", "training", "training"],
          "summary.json's workers",
        );
        const problems = await page.$$eval(".run-card .error", (p) => p.map((e) => e.textContent!));
        assert.ok(problems.some((p) => p.includes("1 line(s) that are not JSON")), problems.join());
      },
    });

    const origins = new Set(
      requests.map((r) => r.url()).filter((u) => !u.startsWith("data:")).map((u) =>
        new URL(u).origin
      ),
    );
    assert.equal(origins.size, 2, `the live dashboard and the offline one: ${[...origins]}`);
    for (const origin of origins) assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    console.log(`${requests.length} requests, all to the two dashboards`);
  } finally {
    await browser?.close();
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

/** A run directory written by hand: a loss curve, validation lines and one line that is not JSON. */
async function makeOtherRun(dir: string): Promise<string> {
  const other = `${dir}/other`;
  await Deno.mkdir(other);
  const lines = Array.from(
    { length: 29 },
    (_, i) => JSON.stringify({ step: i + 1, loss: 6 - i * 0.1, tokens: (i + 1) * 256 }),
  );
  lines.splice(10, 0, JSON.stringify({ step: 10, val_loss: 5.2 }), "{ not json");
  await Deno.writeTextFile(
    `${other}/metrics.jsonl`,
    [...lines, JSON.stringify({ step: 30, loss: 2.5 })].join("\n") + "\n",
  );
  return other;
}

async function waitForState(page: Page, worker: string, state: string): Promise<void> {
  await page.waitForSelector(`tr[data-worker="${worker}"][data-state="${state}"]`, {
    timeout: HANG_GUARD_MS,
  });
}

async function stat(page: Page, name: string): Promise<string> {
  return await page.$eval(`[data-stat="${name}"] dd`, (e) => e.textContent!);
}
