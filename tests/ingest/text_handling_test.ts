import assert from "node:assert/strict";
import { cleanText, detectKind } from "../../ingest/mod.ts";
import { decodeText } from "../../ingest/decode_text.ts";
import { rejectText } from "../../ingest/text_checks.ts";
import { makePdf, makeTextPng } from "./_fixtures.ts";

const enc = new TextEncoder();

Deno.test("kind comes from magic bytes before the extension", () => {
  assert.equal(detectKind(makePdf([["x"]]), "report.txt").kind, "pdf");
  assert.deepEqual(detectKind(makeTextPng(["A"]), "photo.jpg"), { kind: "image", format: "png" });
  assert.deepEqual(detectKind(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), "x"), {
    kind: "image",
    format: "jpeg",
  });
  assert.match(
    JSON.stringify(detectKind(enc.encode("hello"), "fake.png")),
    /corrupt image: \.png file without a PNG signature/,
  );
  assert.match(JSON.stringify(detectKind(enc.encode("hello"), "fake.pdf")), /no %PDF- header/);
  assert.deepEqual(detectKind(Uint8Array.of(0x50, 0x4b, 3, 4, 0), "a.txt"), {
    kind: "binary",
    what: "ZIP archive",
  });
  assert.deepEqual(detectKind(enc.encode("fn main() {}"), "src/main.rs"), {
    kind: "code",
    language: "rust",
  });
  assert.deepEqual(detectKind(enc.encode("plain"), "NOTES"), { kind: "text" });
  assert.deepEqual(detectKind(new Uint8Array(0), "a.txt"), { kind: "empty" });
});

Deno.test("UTF-8 errors are counted, UTF-16 is read by BOM, legacy 8-bit text falls back to windows-1252", () => {
  const prose = enc.encode("a long enough line of ordinary text ");
  const bad = decodeText(Uint8Array.from([...prose, 0xff, 0x62, 0xef, 0xbf, 0xbd]));
  // One real error; the literal U+FFFD (EF BF BD) in the file is not counted.
  assert.deepEqual(bad, {
    text: "a long enough line of ordinary text \ufffdb\ufffd",
    encoding: "utf-8",
    invalidSequences: 1,
  });
  const utf16 = Uint8Array.of(0xff, 0xfe, 0x68, 0, 0x69, 0);
  assert.deepEqual(decodeText(utf16), { text: "hi", encoding: "utf-16le", invalidSequences: 0 });
  const latin = Uint8Array.from(
    [..."caf"].map((c) => c.charCodeAt(0)).concat([0xe9, 0x20, 0x93, 0x6f, 0x6b, 0x94]),
  );
  assert.deepEqual(decodeText(latin), {
    text: "café “ok”",
    encoding: "windows-1252",
    invalidSequences: 0,
  });
});

Deno.test("cleaning applies NFC, keeps code indentation and collapses prose whitespace", () => {
  assert.equal(
    cleanText("cafe\u0301  au\u00a0\r\nlait  \n\n\n\nend\u0007", { code: false }),
    "café au\nlait\n\nend",
  );
  const code = "def f():\r\n    if x:\t\n        return 1   \n\n\n\n\nprint( f() )\n";
  assert.equal(
    cleanText(code, { code: true }),
    "def f():\n    if x:\n        return 1\n\nprint( f() )",
  );
  assert.equal(cleanText("  \n\n   indented first line", { code: true }), "   indented first line");
});

Deno.test("cleaning the whole text at once follows the rules stated line by line", () => {
  // The rules as the doc comment states them, one line at a time.
  const byLine = (text: string, code: boolean) =>
    text.normalize("NFC").replace(/\r\n?|\f|\u2028|\u2029/g, "\n")
      // deno-lint-ignore no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufeff]/g, "")
      .split("\n")
      .map((line) => code ? line.trimEnd() : line.replace(/[\s]+/g, " ").trim())
      .join("\n").replace(/\n{3,}/g, "\n\n").replace(/^\n+/, "").replace(/\s+$/, "");
  const pieces = [
    ..."ab \t\n\r\f\u2028\u2029\u00a0\u1680\u2003\u202f\u205f\u3000\u0007\u000b\ufeff\u0301\u200b\u0085",
    "  ",
    "\r\n",
    "e\u0301",
  ];
  let seed = 7;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 20_000; i++) {
    const text = Array.from(
      { length: Math.floor(next() * 16) },
      () => pieces[Math.floor(next() * pieces.length)],
    ).join("");
    for (const code of [false, true]) {
      assert.equal(cleanText(text, { code }), byLine(text, code), JSON.stringify({ text, code }));
    }
  }
});

Deno.test("minified, generated and lock files are rejected with a reason", () => {
  assert.match(rejectText("x".repeat(30_000), "a.txt", false)!, /single line of 30000 characters/);
  assert.match(
    rejectText("var a=1;".repeat(100) + "\n" + "b".repeat(900) + "\nc", "app.js", true)!,
    /^minified: \d+ characters per line/,
  );
  assert.match(rejectText("x", "dist/app.min.js", true)!, /^minified: \.min file/);
  assert.match(rejectText("// @generated\nx", "a.ts", true)!, /^generated: marker "@generated"/);
  assert.match(rejectText("{}", "pkg/package-lock.json", true)!, /lock file/);
  assert.equal(rejectText("normal\ncode\n", "a.ts", true), undefined);
});
