/**
 * Cross-origin access to the HTTP API (`--allowed-origins`), for a browser app served from another
 * origin, as vLLM's flag of the same name allows. Without it no response carries CORS headers, so
 * browsers hand the API's answers only to pages of its own origin (the playground). Credentials
 * are never allowed across origins: a cross-origin caller sends the API key as a bearer header,
 * and the playground's session cookie stays with the playground.
 *
 * @example
 * ```ts
 * const cors = new CorsPolicy(parseAllowedOrigins("https://app.example.com", "--allowed-origins"));
 * const res = cors.preflight(req) ?? cors.apply(req, await route(req));
 * ```
 */
import { InputError } from "../../model/errors.ts";
import { errorResponse, HttpError, toHttpError } from "./http_errors.ts";

/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

/** Origins that may call the API from a browser: exact origins, or `*` for any. */
export function parseAllowedOrigins(value: string, flag: string): string[] {
  const origins = value.split(",").map((o) => o.trim()).filter(Boolean);
  if (origins.length === 0) throw new InputError(flag, "names no origin (give * for any)");
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {
      // refused below
    }
    if (parsed !== origin) {
      throw new InputError(
        flag,
        `"${origin}" is not an origin: give scheme://host[:port], with no path or trailing slash`,
      );
    }
  }
  return origins;
}

/** What `--allowed-origins` allows, applied to requests and responses. */
export class CorsPolicy {
  #any: boolean;
  #origins: Set<string>;

  constructor(origins: readonly string[] = []) {
    this.#any = origins.includes("*");
    this.#origins = new Set(origins);
  }

  /**
   * The answer to a browser's preflight (an OPTIONS request with an Origin and the method it asks
   * for), or undefined for any other request. A preflight needs no API key: browsers send none.
   */
  preflight(req: Request): Response | undefined {
    const origin = req.headers.get("origin");
    if (req.method !== "OPTIONS" || !origin) return undefined;
    if (!req.headers.has("access-control-request-method")) return undefined;
    if (!this.#allows(origin)) {
      return errorResponse(toHttpError(
        new HttpError(
          403,
          `Origin ${origin} may not call this API (see --allowed-origins)`,
          "origin_not_allowed",
        ),
      ));
    }
    return new Response(null, {
      status: 204,
      headers: {
        ...this.#allowOrigin(origin),
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "authorization, content-type",
        "access-control-max-age": String(PREFLIGHT_MAX_AGE),
      },
    });
  }

  /** `res`, readable by the page that sent `req` when its origin is allowed. */
  apply(req: Request, res: Response): Response {
    const origin = req.headers.get("origin");
    if (!origin || !this.#allows(origin)) return res;
    const out = new Response(res.body, res); // some responses' headers are immutable
    for (const [name, value] of Object.entries(this.#allowOrigin(origin))) {
      out.headers.set(name, value);
    }
    return out;
  }

  #allows(origin: string): boolean {
    return this.#any || this.#origins.has(origin);
  }

  #allowOrigin(origin: string): Record<string, string> {
    // Naming the origin rather than * makes the answer depend on it: caches must key on it.
    return this.#any
      ? { "access-control-allow-origin": "*" }
      : { "access-control-allow-origin": origin, vary: "origin" };
  }
}
