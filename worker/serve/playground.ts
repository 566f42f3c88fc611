/**
 * The playground: a page at `/playground` on the inference server's HTTP port, for trying the
 * model in a browser before writing a client. It streams completions from `/v1/completions` with
 * the sampling settings as sliders, shows each token's log-probability and alternatives, and the
 * nearest neighbours of a token's embedding (`/v1/neighbours`).
 *
 * It is served by the server it talks to, so the page and the API share one origin: no CORS to
 * open, and the API key guards both the same way. With `--api-key`, the page asks for the key
 * once (a login form that sets a session cookie the `/v1/` routes also accept); the key never
 * reaches page scripts or storage.
 */
import { fileResponse, STYLESHEET, WebAccess } from "../../model/web/mod.ts";

const ASSETS = new URL("./playground/", import.meta.url);

/** What `/playground/assets/NAME` serves. */
const FILES = new Map<string, URL>([
  ["playground.js", new URL("playground.js", ASSETS)],
  ["playground.css", new URL("playground.css", ASSETS)],
  ["style.css", STYLESHEET],
]);

/** The playground's routes on a server whose `/v1/` routes need `apiKey` (when set). */
export class Playground {
  readonly access: WebAccess;

  constructor(apiKey: string | undefined) {
    this.access = new WebAccess({
      secret: apiKey,
      cookie: "denoformer_playground",
      what: "API key",
      loginPath: "/playground/login",
      stylesheet: "/playground/assets/style.css",
    });
  }

  /** Whether `path` is the playground's. */
  owns(path: string): boolean {
    return path === "/" || path === "/playground" || path.startsWith("/playground/");
  }

  /** Answers a request for one of its paths. */
  async answer(req: Request): Promise<Response> {
    const signIn = await this.access.answer(req);
    if (signIn) return signIn;
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    if (path === "/") {
      return new Response(null, { status: 302, headers: { location: "/playground" } });
    }
    if (path === "/playground") {
      return this.access.allows(req)
        ? await fileResponse(new URL("index.html", ASSETS))
        : this.access.loginPage(req);
    }
    const file = FILES.get(path.slice("/playground/assets/".length));
    return path.startsWith("/playground/assets/") && file
      ? await fileResponse(file)
      : new Response(`Not found: ${path}\n`, { status: 404 });
  }
}
