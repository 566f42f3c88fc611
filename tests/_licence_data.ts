/** Training data for tests that run a job: the GPL-3 text Debian ships, through the real ingest CLI. */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

/** Ingests /usr/share/common-licenses/GPL-3 into `out` (tokenizer of 300, no validation split). */
export async function ingestLicence(out: string): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}ingest/main.ts`,
      "--out",
      out,
      "--vocab-size",
      "300",
      "--val-fraction",
      "0",
      "/usr/share/common-licenses/GPL-3",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
}
