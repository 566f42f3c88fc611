/**
 * `model/web/`: what our HTTP servers and browser pages share: a port in use named by its flag,
 * access with a secret (bearer header, or a login form
 * that sets a session cookie), the security headers every page carries, files served from disk
 * (our assets, and libraries served from their npm package), and one style sheet. The training
 * dashboard (coordinator/dashboard/) and the playground (worker/serve/) are built on it.
 *
 * @example
 * ```ts
 * const access = new WebAccess({ cookie: "c", what: "API key", stylesheet: "/style.css" });
 * Deno.serve(async (req) => await access.answer(req) ?? fileResponse(STYLESHEET));
 * ```
 */
export { signInUrl, WebAccess } from "./access.ts";
export type { WebAccessOptions } from "./access.ts";
export { serveHttp } from "./listen.ts";
export type { ListenFlags } from "./listen.ts";
export { escapeHtml, fileResponse, htmlPage, PAGE_HEADERS, STYLESHEET } from "./pages.ts";
