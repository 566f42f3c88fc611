/**
 * The playground page: sends the form as one streamed `POST /v1/completions` (with `logprobs: 5`)
 * and draws the completion as it arrives, one span per token. The spans are cut from the
 * completion's text at the tokens' `text_offset`s, so the page shows exactly the text the API
 * returned, even where a token holds part of a character or a stop string cut the text short.
 * Clicking a token asks `/v1/neighbours` for the tokens whose embeddings lie nearest. Everything
 * from the server is put in the page as text, never as markup.
 */

const $ = (id) => document.getElementById(id);
const form = $("settings"), output = $("completion"), status = $("status"), error = $("error");
const SLIDERS = ["temperature", "top_k", "top_p", "max_tokens"];

/** The completion on screen: its text and its tokens with their log-probabilities. */
let shown = { text: "", tokens: [] };
let running;

/** For tests and the curious. */
globalThis.playground = {
  get shown() {
    return shown;
  },
  requests: 0,
};

for (const name of SLIDERS) {
  const input = $(name);
  const show = () => $(`${name}-value`).textContent = sliderText(name, Number(input.value));
  input.addEventListener("input", show);
  show();
}
$("colour").addEventListener("change", () => render());
form.addEventListener("submit", (e) => {
  e.preventDefault();
  void generate();
});
$("cancel").addEventListener("click", () => running?.abort());
$("lookup").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("lookup-input").value;
  if (text) void showNeighbours(text);
});
void describeModel();

function sliderText(name, v) {
  if (name === "top_k") return v === 0 ? "off" : String(v);
  if (name === "top_p") return v >= 1 ? "off" : v.toFixed(2);
  return name === "temperature" ? (v === 0 ? "0 (greedy)" : v.toFixed(2)) : String(v);
}

async function describeModel() {
  const res = await api("/v1/models");
  if (!res) return;
  const model = (await res.json()).data[0];
  $("model").textContent = `${model.id} · context ${model.max_model_len}`;
  $("max_tokens").max = String(Math.min(1024, model.max_model_len));
}

/** The request the form describes. */
function request() {
  const stop = $("stop").value.split(",").map((s) => s.replaceAll("\\n", "\n")).filter((s) => s);
  const body = {
    prompt: $("prompt").value,
    max_tokens: Number($("max_tokens").value),
    temperature: Number($("temperature").value),
    top_k: Number($("top_k").value),
    top_p: Number($("top_p").value),
    logprobs: 5,
    stream: true,
  };
  if (stop.length) body.stop = stop;
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  return body;
}

async function generate() {
  running?.abort();
  const abort = running = new AbortController();
  const body = request();
  shown = { text: "", tokens: [] };
  $("prompt-echo").textContent = body.prompt;
  error.hidden = true;
  setRunning(true);
  const started = performance.now();
  let finish = null;
  try {
    const res = await api("/v1/completions", body, abort.signal);
    if (!res) return;
    for await (const event of serverSentEvents(res)) {
      if (event.error) throw new Error(event.error.message);
      const choice = event.choices?.[0];
      if (!choice) continue;
      add(choice);
      finish = choice.finish_reason ?? finish;
      render();
      const seconds = (performance.now() - started) / 1000;
      status.textContent = `${shown.tokens.length} tokens · ${
        (shown.tokens.length / seconds).toFixed(1)
      } tokens/s`;
    }
    status.textContent += finish
      ? ` · finished: ${finish === "length" ? "max tokens" : "stop"}`
      : "";
  } catch (err) {
    if (err.name !== "AbortError") showError(err.message);
    else status.textContent += " · stopped";
  } finally {
    globalThis.playground.requests++;
    if (running === abort) setRunning(false);
  }
}

/** Adds a streamed piece of the choice: text, and its tokens' log-probabilities. */
function add(choice) {
  shown.text += choice.text;
  const lp = choice.logprobs;
  if (!lp) return;
  lp.tokens.forEach((token, i) => {
    shown.tokens.push({
      token,
      logprob: lp.token_logprobs[i],
      top: lp.top_logprobs[i] ?? {},
      offset: lp.text_offset[i],
    });
  });
}

/** Draws the completion: one span per token, cut from the text at the tokens' offsets. */
function render() {
  const chars = Array.from(shown.text);
  const colour = $("colour").checked;
  const spans = shown.tokens.map((t, i) => {
    const end = i + 1 < shown.tokens.length ? shown.tokens[i + 1].offset : chars.length;
    const span = document.createElement("span");
    span.className = "token";
    span.textContent = chars.slice(t.offset, Math.max(t.offset, end)).join("");
    span.dataset.index = String(i);
    span.title = tooltip(t);
    if (colour && t.logprob != null) span.style.backgroundColor = shade(t.logprob);
    span.addEventListener("click", () => selectToken(i));
    return span;
  });
  // Text the tokens do not cover yet (the server holds back a possible stop string's start).
  const covered = shown.tokens.length ? shown.tokens[0].offset : chars.length;
  output.replaceChildren(chars.slice(0, covered).join(""), ...spans);
}

/** Green for a likely token, through yellow, to red at 1 in 400 (log-probability −6) or less. */
function shade(logprob) {
  const likely = Math.min(1, Math.max(0, 1 + logprob / 6));
  return `hsla(${Math.round(120 * likely)}, 80%, 50%, 0.28)`;
}

function tooltip(t) {
  if (t.logprob == null) return t.token;
  const alternatives = Object.entries(t.top).sort((a, b) => b[1] - a[1])
    .map(([tok, lp]) => `  ${quote(tok)}  ${lp.toFixed(3)}  (${percent(lp)})`);
  return `${quote(t.token)}  log-probability ${t.logprob.toFixed(3)} (${percent(t.logprob)})\n` +
    `top alternatives:\n${alternatives.join("\n")}`;
}

function selectToken(i) {
  const t = shown.tokens[i];
  for (const el of output.querySelectorAll(".token.selected")) el.classList.remove("selected");
  output.querySelector(`.token[data-index="${i}"]`)?.classList.add("selected");
  const rows = Object.entries(t.top).sort((a, b) => b[1] - a[1]).map(([tok, lp]) =>
    el(
      "tr",
      tok === t.token ? "chosen" : "",
      el("td", "mono", quote(tok)),
      el("td", "num", lp.toFixed(3)),
      el("td", "num", percent(lp)),
    )
  );
  $("token-info").replaceChildren(
    el(
      "p",
      "",
      el("span", "mono big", quote(t.token)),
      ` token ${i + 1}, log-probability ${t.logprob?.toFixed(3) ?? "–"} (${
        t.logprob == null ? "–" : percent(t.logprob)
      })`,
    ),
    el(
      "table",
      "alternatives",
      el(
        "thead",
        "",
        el("tr", "", el("th", "", "alternatives"), el("th", "num", "log p"), el("th", "num", "p")),
      ),
      el("tbody", "", ...rows),
    ),
  );
  $("lookup-input").value = t.token;
  void showNeighbours(t.token);
}

async function showNeighbours(text) {
  const list = $("neighbours");
  list.replaceChildren(el("li", "muted", "…"));
  const res = await api("/v1/neighbours", { input: text, k: 10 });
  if (!res) return list.replaceChildren();
  const answer = await res.json();
  const note = answer.input.ids.length > 1
    ? el(
      "li",
      "muted note",
      `${quote(text)} is ${answer.input.ids.length} tokens (${
        answer.input.pieces.map((p) => quote(p)).join(" ")
      }): their mean is compared`,
    )
    : "";
  list.replaceChildren(
    note,
    ...answer.data.map((n) =>
      el(
        "li",
        "",
        el("span", "mono", quote(n.token)),
        el("span", "bar", el("span", "fill", "")),
        el("span", "num", n.score.toFixed(3)),
      )
    ),
  );
  list.querySelectorAll(".fill").forEach((fill, i) =>
    fill.style.width = `${Math.max(0, answer.data[i].score) * 100}%`
  );
}

/** Calls the API; shows why and returns undefined if it refused. */
async function api(path, body, signal) {
  const res = await fetch(
    path,
    body === undefined ? { signal } : {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    },
  );
  if (res.ok) return res;
  const message = await res.json().then(
    (j) => j.error?.message ?? res.statusText,
    () => res.statusText,
  );
  showError(res.status === 401 ? `${message}: reload the page to sign in` : message);
  return undefined;
}

/** The `data:` payloads of a server-sent event stream, parsed, up to `[DONE]`. */
async function* serverSentEvents(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
        .join("\n");
      if (data === "[DONE]") return;
      if (data) yield JSON.parse(data);
    }
  }
}

function setRunning(on) {
  $("generate").disabled = on;
  $("cancel").disabled = !on;
  if (on) status.textContent = "streaming…";
}

function showError(message) {
  error.textContent = message;
  error.hidden = false;
}

/** A token in quotes, its spaces kept and control characters escaped (not JSON's backslashes). */
function quote(token) {
  const escaped = token.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) =>
      ({ "\n": "\\n", "\t": "\\t", "\r": "\\r" })[c] ??
        `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `“${escaped}”`;
}

function percent(logprob) {
  const p = Math.exp(logprob) * 100;
  return p >= 10 ? `${p.toFixed(0)}%` : p >= 0.1 ? `${p.toFixed(1)}%` : `${p.toExponential(0)}%`;
}

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}
