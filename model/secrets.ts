/** Comparing a presented secret (job token, API key, session cookie) with the expected one. */
import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time token comparison (of digests, so lengths leak nothing either). */
export function tokensEqual(presented: string, token: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}
