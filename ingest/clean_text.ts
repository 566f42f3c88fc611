/** Horizontal white space other than the tab: spaces, no-break and other Unicode spaces. */
const SPACES = /[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/g;
/** Control characters other than tab and newline, and stray byte-order marks. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufeff]/g;

/**
 * Normalises extracted text before deduplication and tokenization: Unicode NFC, `\n` line endings,
 * no control characters, no trailing spaces, at most one blank line in a row. Prose also has runs
 * of spaces collapsed and lines trimmed; code keeps its indentation and inner spacing.
 *
 * @example
 * ```ts
 * cleanText("caf\u0065\u0301  au\r\nlait ", { code: false }); // "café au\nlait"
 * ```
 */
export function cleanText(text: string, opts: { code: boolean }): string {
  let t = text.normalize("NFC").replace(/\r\n?|\f|\u2028|\u2029/g, "\n").replace(CONTROLS, "");
  const lines = t.split("\n");
  for (let i = 0; i < lines.length; i++) {
    lines[i] = opts.code ? lines[i].trimEnd() : lines[i].replace(SPACES, " ").trim();
  }
  t = lines.join("\n").replace(/\n{3,}/g, "\n\n");
  return t.replace(/^\n+/, "").replace(/\s+$/, "");
}
