/** What the browser tests share (the browser itself is tools/headless_browser.ts). */
import type { Page } from "puppeteer-core";

/** Types `secret` into a page's login form (model/web's WebAccess) and waits for the next page. */
export async function signIn(page: Page, secret: string): Promise<void> {
  await page.click("input[name=token]", { count: 3 });
  await page.keyboard.press("Backspace");
  await page.type("input[name=token]", secret);
  await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
}
