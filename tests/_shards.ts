/** Token shards for the tests that start a coordinator. */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

/** Shards of real English text (the GPL) made in `out` by the real ingest CLI. */
export async function licenseShards(out: string): Promise<string> {
  const ingested = await new Deno.Command(Deno.execPath(), {
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
  assert.equal(ingested.code, 0, new TextDecoder().decode(ingested.stderr));
  return out;
}
