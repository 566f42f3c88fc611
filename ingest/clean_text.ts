/**
 * Runs of horizontal white space (spaces, tabs, no-break and other Unicode spaces) other than a
 * single plain space, which is left as it is rather than replaced by itself.
 */
const SPACES =
  /[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;
/** Any run of horizontal white space at the end of a line or of the text. */
const TRAILING_SPACES = /[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+(?=\n|$)/g;
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
  // Over the whole text rather than line by line (a string per line costs more than the rest):
  // once the controls are gone, the only white space left besides SPACES' characters is "\n", so
  // a collapsed run is one space and trimming a line is dropping the space beside each "\n". The
  // patterns match only where there is something to drop: one that matched every line break, or
  // tried every space for the end of the text, would take longer than all the rest.
  if (opts.code) t = t.replace(TRAILING_SPACES, "");
  else {
    t = t.replace(SPACES, " ").replace(/ \n ?|\n /g, "\n");
    if (t.startsWith(" ")) t = t.slice(1);
    if (t.endsWith(" ")) t = t.slice(0, -1);
  }
  t = t.replace(/\n{3,}/g, "\n\n");
  // trimEnd drops what `\s` matches; `/\s+$/` would try a match at every run of white space.
  return t.replace(/^\n+/, "").trimEnd();
}
