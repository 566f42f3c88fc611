/**
 * JPEG and WebP scans: the same rendered text as the PNG fixture, encoded by Debian's own encoders
 * (`cjpeg` from libjpeg-turbo-progs, `cwebp` from webp, both installed by .ci/run), through the real
 * ingest and OCR.
 */
import assert from "node:assert/strict";
import { runIngest } from "../../ingest/mod.ts";
import { silentLogger } from "../../model/log.ts";
import { charAccuracy, makeTextPng, softText } from "./_fixtures.ts";

// Different text in each: identical text would be deduplicated.
const JPEG_LINES = ["JPEG SCANS READ LIKE", "ANY OTHER PAGE 42."];
const WEBP_LINES = ["WEBP PICTURES OF TEXT", "COME OUT AS TEXT 7."];

async function encode(tool: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(tool, { args, stdout: "null", stderr: "piped" }).output()
    .catch((err) => {
      throw new Error(`${tool} is missing (.ci/run installs it): ${err.message}`);
    });
  assert.equal(out.code, 0, `${tool} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("JPEG and WebP images of text are detected by their bytes and read by OCR", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/in`);
    // cjpeg reads PGM; cwebp reads PNG.
    const { width, height, pixels } = softText(JPEG_LINES);
    const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
    await Deno.writeFile(`${dir}/scan.pgm`, new Uint8Array([...header, ...pixels]));
    await Deno.writeFile(`${dir}/scan.png`, makeTextPng(WEBP_LINES));
    await encode("cjpeg", ["-quality", "90", "-outfile", `${dir}/in/scan.jpg`, `${dir}/scan.pgm`]);
    await encode("cwebp", ["-quiet", "-q", "90", `${dir}/scan.png`, "-o", `${dir}/in/scan.webp`]);

    const result = await runIngest(
      { out: `${dir}/out`, inputs: [`${dir}/in`], dumpText: `${dir}/text`, vocabSize: 300 },
      { log: silentLogger, progressWrite: () => {} },
    );
    const expected = [["scan.jpg", "jpeg", JPEG_LINES], ["scan.webp", "webp", WEBP_LINES]] as const;
    for (const [file, format, lines] of expected) {
      const f = result.manifest.files.find((f) => f.path === file)!;
      assert.equal(f.status, "ok", `${file}: ${f.reason}`);
      assert.equal(f.kind, "image");
      const text = await Deno.readTextFile(`${dir}/text/${file}.txt`);
      const accuracy = charAccuracy(lines.join(" "), text);
      console.log(`OCR character accuracy (${format}): ${(accuracy * 100).toFixed(1)}%`);
      assert.ok(accuracy >= 0.9, `${format} OCR accuracy ${accuracy}: ${JSON.stringify(text)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
