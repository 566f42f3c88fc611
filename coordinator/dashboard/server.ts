/**
 * The dashboard's HTTP server: one page, its assets (ours, and uPlot served from its npm package),
 * and the runs it shows as JSON (`GET /api/state`) and as server-sent events (`GET /api/stream`):
 * the first event holds each run whole, later ones only the history rows a page has not seen, and
 * each run's present state when it changed. Read-only: nothing but signing in is a POST. With a
 * token, the page and the data need it (model/web's WebAccess); the assets are public code.
 *
 * @example
 * ```ts
 * const view = new RunView("runs/a");
 * const dashboard = startDashboard([view], { host: "127.0.0.1", port: 0, token: "s3cret" });
 * console.log(`dashboard on ${dashboard.url}`);
 * ```
 */
import {
  fileResponse,
  PAGE_HEADERS,
  serveHttp,
  STYLESHEET,
  WebAccess,
} from "../../model/web/mod.ts";
import type { RunView } from "./run_view.ts";
import { COLUMNS } from "./run_view.ts";

/** Where and how to serve. */
export interface DashboardOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required secret (the job's token); none lets everyone who reaches the port read. */
  token?: string;
  /** The flag a port in use is reported as (default `--dashboard-port`). */
  flag?: string;
}

/** A running dashboard. */
export interface Dashboard {
  readonly port: number;
  /** `http://HOST:PORT/`. */
  readonly url: string;
  /** The runs shown, first one first. */
  readonly views: readonly RunView[];
  /** Links a page that goes with the first run (the playground of the model it trained). */
  link(label: string, url: string): void;
  /** Sends every page what it has not seen yet, ends their streams and stops serving. */
  close(): Promise<void>;
}

const ASSETS = new URL("./assets/", import.meta.url);

/** What `/assets/NAME` serves. */
const FILES = new Map<string, URL>([
  ...["dashboard.js", "charts.js", "decimate.js", "dashboard.css"]
    .map((name) => [name, new URL(name, ASSETS)] as const),
  ["style.css", STYLESHEET],
  ["uPlot.iife.min.js", new URL(import.meta.resolve("uplot/dist/uPlot.iife.min.js"))],
  ["uPlot.min.css", new URL(import.meta.resolve("uplot/dist/uPlot.min.css"))],
]);

/** Server-sent events are sent at most this often (a busy run changes many times a second). */
const FLUSH_MS = 250;
const KEEPALIVE_MS = 15_000;

/** Serves `views` on `host:port`; returns once the port is bound. */
export function startDashboard(views: RunView[], o: DashboardOptions): Dashboard {
  const access = new WebAccess({
    secret: o.token,
    cookie: "denoformer_dashboard",
    what: "job token",
    stylesheet: "/assets/style.css",
  });
  const streams = new Set<RunStream>();
  const server = serveHttp(
    { host: o.host, port: o.port, flag: o.flag ?? "--dashboard-port" },
    (req) => answer(req, views, access, streams),
  );
  const port = server.addr.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${host}:${port}/`,
    views,
    link(label, url) {
      views[0].set({ links: { ...views[0].state.links, [label]: url } });
    },
    async close() {
      for (const stream of streams) stream.finish();
      await server.shutdown();
    },
  };
}

async function answer(
  req: Request,
  views: RunView[],
  access: WebAccess,
  streams: Set<RunStream>,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  const signIn = await access.answer(req);
  if (signIn) return signIn;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("The dashboard is read-only\n", { status: 405, headers: { allow: "GET" } });
  }
  if (path.startsWith("/assets/")) {
    const file = FILES.get(path.slice("/assets/".length));
    return file ? await fileResponse(file) : notFound(path);
  }
  if (path === "/") {
    return access.allows(req)
      ? await fileResponse(new URL("index.html", ASSETS))
      : access.loginPage(req);
  }
  if (path === "/api/state" || path === "/api/stream") {
    if (!access.allows(req)) return access.refuse(req);
    if (path === "/api/state") return Response.json({ columns: COLUMNS, runs: views.map(whole) });
    const stream: RunStream = new RunStream(views, () => streams.delete(stream));
    streams.add(stream);
    return stream.response;
  }
  return notFound(path);
}

function notFound(path: string): Response {
  return new Response(`Not found: ${path}\n`, { status: 404 });
}

/** A run in full: its state and every row. */
function whole(view: RunView) {
  return { state: view.state, generation: view.generation, reset: true, rows: view.rows };
}

/**
 * One page's server-sent events: every run whole, then what changed, at most every
 * {@linkcode FLUSH_MS}. A page that went away is noticed when a write fails or the stream is
 * cancelled, whichever comes first.
 */
class RunStream {
  readonly response: Response;
  readonly #views: readonly RunView[];
  readonly #sent: { generation: number; rows: number; version: number }[];
  readonly #stops: (() => void)[] = [];
  readonly #ended: () => void;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #open = true;

  constructor(views: readonly RunView[], ended: () => void) {
    this.#views = views;
    this.#ended = ended;
    this.#sent = views.map(() => ({ generation: -1, rows: 0, version: -1 }));
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        const schedule = () => this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
        for (const view of views) this.#stops.push(view.onChange(schedule));
        this.#keepalive = setInterval(() => this.#send(": keepalive\n\n"), KEEPALIVE_MS);
        this.flush();
      },
      cancel: () => this.#stop(),
    });
    this.response = new Response(body, {
      headers: {
        ...PAGE_HEADERS,
        "content-type": "text/event-stream",
        "cache-control": "no-store",
      },
    });
  }

  /** Sends what changed since the last event. */
  flush(): void {
    this.#timer = undefined;
    const runs = this.#views.flatMap((view, index) => {
      const s = this.#sent[index];
      if (s.version === view.version) return [];
      const reset = s.generation !== view.generation;
      const rows = view.rows.slice(reset ? 0 : s.rows);
      Object.assign(s, {
        generation: view.generation,
        rows: view.rows.length,
        version: view.version,
      });
      return [{ index, generation: view.generation, reset, rows, state: view.state }];
    });
    if (runs.length > 0) this.#send(`data: ${JSON.stringify({ columns: COLUMNS, runs })}\n\n`);
  }

  /** Sends what the page has not seen yet, then ends the stream. */
  finish(): void {
    if (!this.#open) return;
    this.flush();
    this.#stop();
    this.#controller.close();
  }

  #send(text: string): void {
    if (!this.#open) return;
    try {
      this.#controller.enqueue(new TextEncoder().encode(text));
    } catch {
      this.#stop();
    }
  }

  #stop(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#stops.forEach((stop) => stop());
    clearTimeout(this.#timer);
    clearInterval(this.#keepalive);
    this.#ended();
  }
}
