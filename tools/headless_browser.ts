/**
 * Debian's Chromium, headless, driven by puppeteer-core: for the browser tests and the
 * screenshots in docs/images. Nothing is downloaded: the browser is the system's
 * (`apt-get install chromium`; .ci/run installs it). The machines that run this may have no
 * network, so Chromium's own background connections (updates, sync, safe browsing) are off, and
 * each browser gets a fresh profile that is deleted when it closes.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await browser.close();
 * ```
 */
import puppeteer, { type Browser } from "puppeteer-core";
import { InputError } from "../model/errors.ts";

/** Where Debian puts Chromium; `CHROMIUM` overrides it. */
const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Starts headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = Deno.env.get("CHROMIUM") ?? DEFAULT_CHROMIUM;
  try {
    await Deno.stat(executablePath);
  } catch (err) {
    throw new InputError(
      executablePath,
      "No Chromium there: `apt-get install chromium`, or set CHROMIUM to its path",
      { cause: err },
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
  const browser = await puppeteer.launch({
    executablePath,
    // Callers wait with deadlines of their own (hang guards); a protocol call may last as long.
    protocolTimeout: 15 * 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return browser;
}
