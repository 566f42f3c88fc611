/**
 * Who may read a web page of ours (the training dashboard, the model playground). Without a secret,
 * everyone who can reach the port. With one (the job's token, the server's API key), a request
 * must carry it: as `Authorization: Bearer SECRET` (scripts, curl), or as the session cookie that
 * the login form, or a link carrying `?token=SECRET`, sets (people). The cookie holds an HMAC of
 * the secret, never the secret itself; it is HttpOnly, so page scripts never see it, and
 * SameSite=Strict, so another site's page cannot make the browser send it.
 *
 * @example
 * ```ts
 * const access = new WebAccess({
 *   secret: token,
 *   cookie: "denoformer_dashboard",
 *   what: "job token",
 *   stylesheet: "/assets/style.css",
 * });
 * Deno.serve(async (req) =>
 *   await access.answer(req) ?? (access.allows(req) ? page() : access.loginPage(req))
 * );
 * ```
 */
import { createHmac } from "node:crypto";
import { concatBytes } from "../bytes.ts";
import { tokensEqual } from "../secrets.ts";
import { escapeHtml, htmlPage } from "./pages.ts";

/** How a server guards its pages. */
export interface WebAccessOptions {
  /** Required secret; none lets every request in. */
  secret?: string;
  /** The session cookie's name: distinct per server, since cookies ignore ports. */
  cookie: string;
  /** What the secret is called on the login form ("job token", "API key"). */
  what: string;
  /** Where the login form posts (default `/login`). */
  loginPath?: string;
  /** The URL path of the shared style sheet (model/web/style.css) on this server. */
  stylesheet: string;
}

export class WebAccess {
  readonly loginPath: string;
  readonly #o: WebAccessOptions;
  readonly #session?: string;

  constructor(options: WebAccessOptions) {
    this.#o = options;
    this.loginPath = options.loginPath ?? "/login";
    if (options.secret) {
      this.#session = createHmac("sha256", options.secret)
        .update("denoformer web session")
        .digest("base64url");
    }
  }

  /** Whether a secret is required at all. */
  get required(): boolean {
    return this.#session !== undefined;
  }

  /** Whether `req` carries the secret (bearer header) or the session cookie. */
  allows(req: Request): boolean {
    if (!this.#o.secret) return true;
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (bearer !== undefined) return tokensEqual(bearer, this.#o.secret);
    const cookie = cookies(req).get(this.#o.cookie);
    return cookie !== undefined && tokensEqual(cookie, this.#session!);
  }

  /**
   * Answers the requests that sign in: the login form's POST, and a GET whose URL carries
   * `?token=` (redirected to the same URL without it, so it leaves the address bar and history).
   * Returns undefined for every other request.
   */
  async answer(req: Request): Promise<Response | undefined> {
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === this.loginPath) {
      const form = await loginForm(req);
      if (!form) return new Response("The login form is larger than it can be\n", { status: 413 });
      return this.#signIn(form.get("token") ?? "", localPath(form.get("next") ?? "/"), req);
    }
    if (req.method === "GET" && url.searchParams.has("token")) {
      const token = url.searchParams.get("token")!;
      url.searchParams.delete("token");
      return this.#signIn(token, url.pathname + url.search, req);
    }
    return undefined;
  }

  /** The login form (401), which returns to `req`'s page once the secret is right. */
  loginPage(req: Request, message?: string): Response {
    const url = new URL(req.url);
    const next = escapeHtml(url.pathname + url.search);
    const what = escapeHtml(this.#o.what);
    const body = `<form class="login" method="post" action="${escapeHtml(this.loginPath)}">
  <h1>Denoformer</h1>
  <p>This page needs the ${what}.</p>
  ${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ""}
  <input type="hidden" name="next" value="${next}">
  <label>${what} <input type="password" name="token" autocomplete="current-password" autofocus></label>
  <button type="submit">Sign in</button>
</form>`;
    return htmlPage("Sign in · Denoformer", body, this.#o.stylesheet, { status: 401 });
  }

  /** The refusal of a data request without the secret (JSON, 401). */
  refuse(req: Request): Response {
    const presented = req.headers.has("authorization") || cookies(req).has(this.#o.cookie);
    return Response.json(
      {
        error: `${
          presented ? "Wrong" : "Missing"
        } ${this.#o.what}: sign in, or send it as \`authorization: Bearer …\``,
      },
      { status: 401, headers: { "www-authenticate": "Bearer" } },
    );
  }

  #signIn(token: string, next: string, req: Request): Response {
    if (!this.#o.secret) return redirect(next);
    if (!token || !tokensEqual(token, this.#o.secret)) {
      const page = new Request(new URL(next, req.url), { headers: req.headers });
      return this.loginPage(page, `Wrong ${this.#o.what}`);
    }
    const cookie = `${this.#o.cookie}=${this.#session}; Path=/; HttpOnly; SameSite=Strict`;
    return redirect(next, cookie);
  }
}

/**
 * `url` with `?token=SECRET`: a link that signs a browser in (for a terminal to print when the
 * secret was generated, so nobody else knows it).
 */
export function signInUrl(url: string, secret: string): string {
  const u = new URL(url);
  u.searchParams.set("token", secret);
  return u.href;
}

/** The most a login form's body may hold: a secret and a path. */
const MAX_FORM_BYTES = 16 * 1024;

/** The login form's fields (it is URL-encoded), or undefined when the body is too large. */
async function loginForm(req: Request): Promise<URLSearchParams | undefined> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of req.body ?? []) {
    size += part.length;
    if (size > MAX_FORM_BYTES) return undefined;
    parts.push(part);
  }
  return new URLSearchParams(new TextDecoder().decode(concatBytes(parts)));
}

function redirect(to: string, cookie?: string): Response {
  const headers: Record<string, string> = { location: to, "cache-control": "no-store" };
  if (cookie) headers["set-cookie"] = cookie;
  return new Response(null, { status: 303, headers });
}

/** A path on this server: anything else (`//evil.example`, `https://…`) becomes `/`. */
function localPath(next: string): string {
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

function cookies(req: Request): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}
