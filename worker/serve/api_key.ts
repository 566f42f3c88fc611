/** The API key check both transports share: a constant-time comparison, one error message. */
import { tokensEqual, UnauthenticatedError } from "../../proto/mod.ts";

/**
 * Throws UnauthenticatedError unless `presented` (an `authorization` value, with or without
 * `Bearer `) is `apiKey`; passes everything when no key is set.
 */
export function checkApiKey(apiKey: string | undefined, presented: string | undefined): void {
  if (!apiKey) return;
  const given = (presented ?? "").replace(/^Bearer\s+/i, "");
  if (!given || !tokensEqual(given, apiKey)) {
    throw new UnauthenticatedError(
      `${given ? "Wrong" : "Missing"} API key: send \`authorization: Bearer KEY\``,
    );
  }
}
