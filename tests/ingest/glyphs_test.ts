import assert from "node:assert/strict";
import {
  glyphUnicode,
  MAC_ROMAN_ENCODING,
  STANDARD_ENCODING,
  standardFontWidths,
  WIN_ANSI_ENCODING,
} from "../../ingest/pdf_text/glyphs.ts";

Deno.test("glyph names read as Unicode by the Adobe Glyph List rules", () => {
  assert.equal(glyphUnicode("A"), "A");
  assert.equal(glyphUnicode("fi"), "\ufb01");
  assert.equal(glyphUnicode("quoteright"), "\u2019");
  assert.equal(glyphUnicode("germandbls"), "\u00df");
  assert.equal(glyphUnicode("uni00410042"), "AB");
  assert.equal(glyphUnicode("u1F600"), "\u{1f600}");
  assert.equal(glyphUnicode("f_f_i"), "ffi");
  assert.equal(glyphUnicode("a.sc"), "a");
  assert.equal(glyphUnicode("one.oldstyle"), "1");
  assert.equal(glyphUnicode("notaglyph"), undefined);
  assert.equal(glyphUnicode("uniD800"), undefined);
  // Lowercase hex is not an AGL name form, and one unknown component spoils the whole name.
  assert.equal(glyphUnicode("uni00e9"), undefined);
  assert.equal(glyphUnicode("f_notaglyph"), undefined);
  assert.equal(glyphUnicode(".notdef"), undefined);
});

Deno.test("the three base encodings follow PDF 32000 Annex D", () => {
  for (const table of [WIN_ANSI_ENCODING, STANDARD_ENCODING, MAC_ROMAN_ENCODING]) {
    assert.equal(table.length, 256);
    assert.equal(table[0x41], "A");
    assert.equal(table[0x0a], "");
  }
  assert.equal(WIN_ANSI_ENCODING[0x80], "\u20ac");
  assert.equal(WIN_ANSI_ENCODING[0x93], "\u201c");
  assert.equal(WIN_ANSI_ENCODING[0x27], "'");
  assert.equal(WIN_ANSI_ENCODING[0x60], "`");
  assert.equal(WIN_ANSI_ENCODING[0xa0], " ");
  assert.equal(WIN_ANSI_ENCODING[0xe9], "\u00e9");
  assert.equal(WIN_ANSI_ENCODING[0x81], "");
  assert.equal(STANDARD_ENCODING[0x27], "\u2019");
  assert.equal(STANDARD_ENCODING[0x60], "\u2018");
  assert.equal(STANDARD_ENCODING[0xae], "\ufb01");
  assert.equal(STANDARD_ENCODING[0xe9], "\u00d8");
  assert.equal(STANDARD_ENCODING[0x80], "");
  assert.equal(MAC_ROMAN_ENCODING[0x80], "\u00c4");
  assert.equal(MAC_ROMAN_ENCODING[0xde], "\ufb01");
  assert.equal(MAC_ROMAN_ENCODING[0xd5], "\u2019");
  assert.equal(MAC_ROMAN_ENCODING[0xdb], "\u00a4");
  assert.equal(MAC_ROMAN_ENCODING[0xf0], "");
});

Deno.test("standard 14 widths by base font name and its aliases", () => {
  assert.equal(standardFontWidths("Helvetica")?.(0x61), 556);
  assert.equal(standardFontWidths("Helvetica")?.(0x4e00), undefined);
  assert.equal(standardFontWidths("Times-Roman")?.(0x20), 250);
  assert.equal(standardFontWidths("ABCDEF+Arial-BoldMT")?.(0x69), 278);
  assert.equal(standardFontWidths("Helvetica,Bold")?.(0x69), 278);
  assert.equal(standardFontWidths("Times New Roman,Italic")?.(0x61), 500);
  assert.equal(standardFontWidths("Courier")?.(0x57), 600);
  assert.equal(standardFontWidths("CourierNewPS-BoldItalicMT")?.(0x20ac), 600);
  assert.equal(standardFontWidths("Symbol"), undefined);
  assert.equal(standardFontWidths("ZapfDingbats"), undefined);
  assert.equal(standardFontWidths("Arial-Black"), undefined);
});
