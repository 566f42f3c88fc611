import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { TextStream } from "../../../worker/serve/text_stream.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Feeds `text` one byte at a time (the worst split) and returns what each push released. */
function feedBytes(stream: TextStream, text: string): string[] {
  return Array.from(bytes(text), (b) => stream.push(Uint8Array.of(b)).text);
}

Deno.test("a character whose bytes span several tokens is released only when complete", () => {
  const s = new TextStream();
  const out = feedBytes(s, "é€😀");
  assertEquals(out, ["", "é", "", "", "€", "", "", "", "😀"]);
  assertEquals(s.end(), "");
});

Deno.test("bytes that can never form a character become U+FFFD, and a cut-off one does at the end", () => {
  const s = new TextStream();
  assertEquals(s.push(Uint8Array.of(0x61, 0xff, 0x62)).text, "a\uFFFDb");
  assertEquals(s.push(Uint8Array.of(0xe2, 0x82)).text, "");
  assertEquals(s.end(), "\uFFFD");
});

Deno.test("a stop sequence split across tokens ends the stream before it and is never released", () => {
  const s = new TextStream(["END"]);
  assertEquals(s.push(bytes("abc E")).text, "abc ");
  assertEquals(s.push(bytes("N")).text, "");
  const last = s.push(bytes("Dxyz"));
  assertEquals(last, { text: "", stopped: true });
  assert(s.stopped);
  assertEquals(s.end(), "");
});

Deno.test("text held back as a possible stop is released when the stop does not follow", () => {
  const s = new TextStream(["\n\n"]);
  assertEquals(s.push(bytes("one\n")).text, "one");
  assertEquals(s.push(bytes("two")).text, "\ntwo");
  assertEquals(s.push(bytes("\n")).text, "");
  assertEquals(s.end(), "\n");
});

Deno.test("the earliest of several stop sequences wins, also one made of multi-byte characters", () => {
  const s = new TextStream(["zz", "é!"]);
  const out = feedBytes(s, "abé!zz");
  assertEquals(out.join(""), "ab");
  assert(s.stopped);
});
