/**
 * The dashboard page: listens to `/api/stream` (server-sent events; the browser reconnects by
 * itself and the server then sends everything again), keeps each run's history as columns, and
 * redraws at most once a frame: the overview, the three charts, and per run the workers, the
 * ring, aborted and replayed steps, checkpoints and config. Everything from the server is put in
 * the page as text, never as markup.
 */
import { Chart, precise, short } from "./charts.js";

/** @type {{ name: string, state: any, generation: number, cols: Record<string, (number|null)[]> }[]} */
const runs = [];
let columns = [];
const charts = {
  loss: new Chart(document.getElementById("chart-loss"), {
    yLabel: "cross-entropy (nats/token)",
    curves: [
      { column: "loss", label: "train" },
      { column: "val_loss", label: "validation", second: true },
    ],
  }),
  lr: new Chart(document.getElementById("chart-lr"), {
    yLabel: "learning rate",
    secondAxis: "loss scale",
    curves: [
      { column: "lr", label: "learning rate" },
      // fp32 and bf16 runs have no loss scale (it stays 1): drawn only where it moves.
      { column: "loss_scale", label: "loss scale", scale: "right", second: true, unlessAll: 1 },
    ],
  }),
  speed: new Chart(document.getElementById("chart-speed"), {
    yLabel: "tokens/s",
    curves: [{ column: "tokens_per_s", label: "tokens/s" }],
  }),
};
const xAxis = /** @type {HTMLSelectElement} */ (document.getElementById("x-axis"));
const connection = document.getElementById("connection");

/** For tests and the curious: the charts and the runs as the page holds them. */
globalThis.dashboard = { charts, runs, updates: 0 };

const events = new EventSource("/api/stream");
events.onmessage = (e) => {
  const message = JSON.parse(e.data);
  columns = message.columns;
  for (const update of message.runs) receive(update);
  globalThis.dashboard.updates++;
  setConnection();
  redrawSoon();
};
events.onerror = () => {
  const over = runs.length > 0 &&
    runs.every((r) => ["finished", "failed"].includes(r.state.status));
  connection.textContent = events.readyState === EventSource.CLOSED
    ? "disconnected: reload to sign in again"
    : over
    ? "run over, server gone: the page keeps what it had"
    : "reconnecting…";
  connection.className = "pill reconnecting";
};
xAxis.addEventListener("change", redrawSoon);
/** The <details> a person opened stay open when the panels are rebuilt. */
const open = new Set();
document.addEventListener("toggle", (e) => {
  const key = e.target.dataset?.key;
  if (key) e.target.open ? open.add(key) : open.delete(key);
}, true);
addEventListener("resize", redrawSoon);

function receive(update) {
  const run = runs[update.index] ??= { name: "", state: {}, generation: -1, cols: {} };
  if (update.reset) run.cols = Object.fromEntries(columns.map((c) => [c, []]));
  columns.forEach((c, i) => {
    const col = run.cols[c];
    for (const row of update.rows) col.push(row[i]);
  });
  run.generation = update.generation;
  run.state = update.state;
  run.name = shortName(update.state.name);
}

function setConnection() {
  const live = runs.some((r) => r.state.live);
  connection.textContent = live
    ? "live"
    : runs.length > 1
    ? `${runs.length} runs`
    : "run directory";
  connection.className = "pill live";
}

let frame = 0;
function redrawSoon() {
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    redraw();
  });
}

function redraw() {
  const x = xAxis.value;
  for (const chart of Object.values(charts)) chart.update(runs, x);
  replace(document.getElementById("overview"), ...runs.map(overview));
  replace(document.getElementById("details"), ...runs.map(details));
  const links = Object.entries(runs[0]?.state.links ?? {});
  replace(
    document.getElementById("links"),
    ...links.map(([label, url]) =>
      h("a", { href: url, target: "_blank", rel: "noopener" }, `${label} ↗`)
    ),
  );
}

/** The run's headline numbers. */
function overview(run, r) {
  const s = run.state;
  const last = (c) => lastValue(run.cols[c]);
  const progress = s.steps ? Math.min(1, s.step / s.steps) : 0;
  return h(
    "div",
    { class: "panel run-card", "data-run": String(r) },
    h("div", { class: "run-title" }, h("strong", {}, s.name), " ", statusPill(s)),
    h(
      "div",
      { class: "progress", title: `${s.step} of ${s.steps ?? "?"} steps` },
      h("div", { class: "bar", style: `width: ${(progress * 100).toFixed(1)}%` }),
    ),
    h(
      "dl",
      { class: "stats" },
      stat("step", s.steps ? `${s.step} / ${s.steps}` : String(s.step)),
      stat("loss", fmt(last("loss"), 4), "last-loss"),
      stat("val loss", fmt(last("val_loss"), 4)),
      stat("tokens seen", s.tokens == null ? "–" : short(s.tokens)),
      stat("tokens/s", s.tokensPerSecond == null ? "–" : short(s.tokensPerSecond)),
      stat("learning rate", last("lr") == null ? "–" : precise(last("lr"))),
    ),
    ...s.problems.map((p) => h("p", { class: "error" }, p)),
  );
}

function statusPill(s) {
  const text = {
    waiting: "waiting for the job",
    training: "training",
    finished: "finished",
    failed: "failed",
    stopped: "stopped (no summary.json)",
  }[s.status] ?? s.status;
  return h("span", { class: `pill ${s.status}`, "data-status": s.status }, text);
}

function stat(label, value, id) {
  return h("div", id ? { "data-stat": id } : {}, h("dt", {}, label), h("dd", {}, value));
}

/** Workers, ring, steps, checkpoints and config of one run. */
function details(run) {
  const s = run.state;
  return h(
    "div",
    { class: "run-details" },
    runs.length > 1 ? h("h2", { class: "run-heading" }, s.name) : "",
    h(
      "div",
      { class: "detail-grid" },
      workersPanel(s),
      ringPanel(s),
      stepsPanel(s),
      checkpointsPanel(s),
      configPanel(s),
    ),
  );
}

function workersPanel(s) {
  const workers = Object.entries(s.workers ?? {});
  const body = workers.length === 0
    ? h(
      "p",
      { class: "muted" },
      s.workers
        ? "No worker has joined yet."
        : "Worker details are in summary.json once the run ends, or live in the coordinator's own dashboard.",
    )
    : table(
      ["worker", "device", "state", ["steps"], "last step: compute · all-reduce · idle", [
        "mean step",
      ]],
      workers.map(([id, w]) => workerRow(id, w)),
    );
  return panel("workers", "Workers", body, splitLegend());
}

function workerRow(id, w) {
  const state = h("span", { class: `pill ${w.state}` }, w.state);
  const last = w.last;
  const mean = w.steps
    ? (w.computeSeconds + w.allReduceSeconds + w.idleSeconds) / w.steps
    : undefined;
  return h(
    "tr",
    { "data-worker": id, "data-state": w.state },
    h("td", { class: "mono" }, id),
    h("td", {}, w.device || "–"),
    h("td", {}, state, w.replacedBy ? h("span", { class: "muted" }, ` by ${w.replacedBy}`) : ""),
    h("td", { class: "num" }, String(w.steps)),
    h("td", {}, last ? splitBar(last) : h("span", { class: "muted" }, "–")),
    h("td", { class: "num" }, mean === undefined ? "–" : seconds(mean)),
  );
}

/** A step's time as a bar: compute, all-reduce and idle, each as wide as its share. */
function splitBar(last) {
  const parts = [["compute", last.computeSeconds], ["allreduce", last.allReduceSeconds], [
    "idle",
    last.idleSeconds,
  ]];
  const total = parts.reduce((a, [, v]) => a + v, 0) || 1;
  const title = parts.map(([k, v]) => `${k} ${seconds(v)}`).join(" · ");
  return h(
    "div",
    { class: "split", title },
    h(
      "div",
      { class: "split-bar" },
      ...parts.map(([k, v]) =>
        h("span", { class: k, style: `width: ${(100 * v / total).toFixed(1)}%` })
      ),
    ),
    h("span", { class: "split-text" }, parts.map(([, v]) => seconds(v)).join(" · ")),
  );
}

function splitLegend() {
  return h(
    "p",
    { class: "legend muted" },
    h("span", { class: "swatch compute" }),
    "compute (forward, backward) ",
    h("span", { class: "swatch allreduce" }),
    "ring all-reduce ",
    h("span", { class: "swatch idle" }),
    "idle at the step barriers",
  );
}

function ringPanel(s) {
  if (!s.ring) {
    return panel("ring", "Ring", h("p", { class: "muted" }, "No ring has formed yet."));
  }
  const chain = [];
  s.ring.order.forEach((id, rank) => {
    chain.push(
      h(
        "span",
        { class: "ring-node", "data-rank": String(rank) },
        h("small", {}, `rank ${rank}`),
        h("span", { class: "mono" }, id),
      ),
    );
    chain.push(
      h("span", { class: "ring-arrow" }, rank === s.ring.order.length - 1 ? "↩ rank 0" : "→"),
    );
  });
  return panel(
    "ring",
    "Ring",
    h(
      "p",
      {},
      "Membership version ",
      h("strong", { "data-ring-version": String(s.ring.version) }, `v${s.ring.version}`),
      h("span", { class: "muted" }, `, formed for step ${s.ring.step}`),
    ),
    h("div", { class: "ring-chain" }, ...chain),
  );
}

function stepsPanel(s) {
  const rows = s.aborts.slice().reverse().map((a) =>
    h(
      "tr",
      {},
      h("td", { class: "num" }, String(a.step)),
      h("td", { class: "num" }, `v${a.ringVersion}`),
      h("td", {}, a.reason),
      h("td", {}, a.replayed ? "replayed" : "pending"),
    )
  );
  return panel(
    "steps",
    "Steps",
    h(
      "dl",
      { class: "stats" },
      stat("committed", String(s.stepsCommitted)),
      stat("aborted", String(s.stepsAborted), "aborted"),
      stat("replayed", String(s.stepsReplayed), "replayed"),
    ),
    rows.length
      ? table([["step"], ["ring"], "why aborted", ""], rows)
      : h("p", { class: "muted" }, "No step has been aborted."),
  );
}

function checkpointsPanel(s) {
  const list = s.checkpoints.slice().sort((a, b) => b.step - a.step);
  return panel(
    "checkpoints",
    "Checkpoints",
    list.length
      ? table(
        [["step"], ["size"], "written"],
        list.map((c) =>
          h(
            "tr",
            { "data-checkpoint": String(c.step), class: c.removed ? "muted" : "" },
            h("td", { class: "num" }, String(c.step)),
            h("td", { class: "num" }, bytes(c.bytes)),
            h("td", {}, c.removed ? "removed (keep-last)" : new Date(c.time).toLocaleTimeString()),
          )
        ),
      )
      : h("p", { class: "muted" }, "None written yet."),
  );
}

function configPanel(s) {
  const c = s.config;
  if (!c) {
    return panel(
      "config",
      "Config",
      h("p", { class: "muted" }, "No job.json in the run directory."),
    );
  }
  const m = c.model ?? {}, t = c.train ?? {};
  const facts = [
    [
      "model",
      `${
        c.initFrom ? `from ${c.initFrom}` : c.preset
      }: ${m.layers}×${m.width}, ${m.heads} heads, context ${m.contextLength}, vocab ${m.vocabSize}`,
    ],
    [
      "batch",
      `${t.microBatch} × ${t.gradAccum} per worker, sequence ${
        t.sequenceLength ?? m.contextLength
      }`,
    ],
    ["schedule", `${t.steps} steps, lr ${t.lr}, warmup ${t.warmupSteps}`],
    ["precision", `${t.precision}, wire ${c.wire ?? "fp32"}, ${c.transport ?? "tcp"}`],
    ["workers", `at least ${c.minWorkers}; dead after ${c.deadAfterMs} ms silent`],
  ];
  return panel(
    "config",
    "Config",
    h(
      "table",
      { class: "facts" },
      h("tbody", {}, ...facts.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v)))),
    ),
    h(
      "details",
      { "data-key": `config-${s.name}`, ...(open.has(`config-${s.name}`) ? { open: "" } : {}) },
      h("summary", {}, "job.json"),
      h("pre", { class: "mono" }, JSON.stringify(c, null, 2)),
    ),
  );
}

/** A panel of the page: a section with its heading. */
function panel(name, title, ...children) {
  return h("section", { class: `panel ${name}` }, h("h2", {}, title), ...children);
}

/** A table with a heading row; a heading given as `[text]` heads a column of numbers. */
function table(headings, rows) {
  const th = (x) => Array.isArray(x) ? h("th", { class: "num" }, x[0]) : h("th", {}, x);
  return h("table", {}, h("thead", {}, h("tr", {}, ...headings.map(th))), h("tbody", {}, ...rows));
}

/** Builds an element; children are nodes or text (set as text, never parsed as HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    // Through the CSSOM: the content security policy refuses style attributes.
    if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

function replace(parent, ...children) {
  parent.replaceChildren(...children);
}

function lastValue(col) {
  for (let i = (col?.length ?? 0) - 1; i >= 0; i--) if (col[i] != null) return col[i];
  return undefined;
}

function shortName(path) {
  return path.replace(/\/+$/, "").split("/").slice(-2).join("/");
}

function fmt(v, digits) {
  return v == null ? "–" : v.toFixed(digits);
}

function seconds(v) {
  return v >= 1 ? `${v.toFixed(2)} s` : `${(v * 1000).toFixed(v < 0.01 ? 2 : 1)} ms`;
}

function bytes(n) {
  return n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
    ? `${(n / 1e6).toFixed(1)} MB`
    : `${(n / 1e3).toFixed(1)} kB`;
}
