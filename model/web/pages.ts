/**
 * Answering a browser: HTML pages and the files they load, with the headers every page of ours
 * carries. The content security policy lets a page load and connect to its own server only: the
 * machines that run this may have no internet, and a page that silently reached out to a CDN would
 * break there (and leak that someone looked).
 */

/** Headers of every page and asset. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; " +
    "form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // A `?token=` URL must not travel to another site in a Referer header.
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  json: "application/json",
};

/** The file at `path` (a path or file URL) with its content type, or 404 if it is missing. */
export async function fileResponse(path: string | URL): Promise<Response> {
  const name = path instanceof URL ? path.pathname : path;
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
  try {
    const bytes = await Deno.readFile(path);
    return new Response(bytes, { headers: { ...PAGE_HEADERS, "content-type": type } });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return new Response("Not found\n", { status: 404 });
  }
}

/** A whole HTML page around `body` (trusted markup) with the shared style sheet at `stylesheet`. */
export function htmlPage(
  title: string,
  body: string,
  stylesheet: string,
  init: { status?: number } = {},
): Response {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(stylesheet)}">
</head>
<body>
${body}
</body>
</html>
`;
  return new Response(html, {
    status: init.status ?? 200,
    headers: { ...PAGE_HEADERS, "content-type": TYPES.html },
  });
}

/** The style sheet both the dashboard and the playground use. */
export const STYLESHEET: URL = new URL("./style.css", import.meta.url);

/** Text made safe to place in HTML (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
