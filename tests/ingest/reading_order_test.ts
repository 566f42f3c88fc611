import assert from "node:assert/strict";
import { columnOrder } from "../../ingest/mod.ts";
import { closePdf, openPdf, readPages } from "../../ingest/extract_pdf.ts";
import type { Box } from "../../ingest/reading_order.ts";
import { makePdf } from "./_fixtures.ts";

/** A box for a line of `chars` characters 10 units high, in row `row` of a column at `x`. */
function line(x: number, row: number, chars = 20): Box {
  return { x0: x, x1: x + 6 * chars, y0: 14 * row, y1: 14 * row + 10 };
}

Deno.test("boxes listed row by row across two columns are read column by column", () => {
  const boxes: Box[] = [];
  for (let r = 0; r < 4; r++) boxes.push(line(0, r), line(150, r)); // gutter 30 wide
  assert.deepEqual(columnOrder(boxes, 15), [0, 2, 4, 6, 1, 3, 5, 7]);
});

Deno.test("a heading across the columns comes first and a footer across them last", () => {
  const boxes = [line(0, 0, 45)]; // heading
  for (let r = 2; r < 5; r++) boxes.push(line(0, r), line(150, r), line(300, r));
  boxes.push(line(0, 6, 70)); // footer
  assert.deepEqual(columnOrder(boxes, 15), [0, 1, 4, 7, 2, 5, 8, 3, 6, 9, 10]);
});

Deno.test("columns whose lines do not line up are still found", () => {
  const boxes: Box[] = [];
  for (let r = 0; r < 5; r++) {
    boxes.push(line(0, r), { ...line(150, r), y0: 14 * r + 7, y1: 14 * r + 17 });
  }
  assert.deepEqual(columnOrder(boxes, 15), [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]);
});

Deno.test("one column, a two-row table or a stray label keep the order they came in", () => {
  const single = [line(0, 1), line(0, 0, 30), line(0, 2, 10), line(0, 3)];
  assert.equal(columnOrder(single, 15), undefined, "single column: source order, even if odd");
  const table = [line(0, 0, 8), line(100, 0, 8), line(0, 1, 8), line(100, 1, 8)];
  assert.equal(columnOrder(table, 15), undefined, "two rows are not columns");
  const label = [line(0, 0), line(0, 1), line(0, 2), line(0, 3), line(400, 1, 3)];
  assert.equal(columnOrder(label, 15), undefined, "one line beside a column is not a column");
});

Deno.test("a single-column PDF keeps content-stream order byte for byte, a footer drawn first included", async () => {
  const pdf = await openPdf(makePdf([{
    runs: [
      { x: 300, y: 40, text: "Page 7" }, // drawn first, sits at the bottom
      { x: 72, y: 720, text: "First line of the body," },
      { x: 72, y: 706, text: "second line of the body," },
      { x: 72, y: 692, text: "third and last line." },
    ],
  }]));
  try {
    const [page] = await readPages(pdf, 1, 1);
    assert.deepEqual(page, {
      text: "Page 7\nFirst line of the body,\nsecond line of the body,\nthird and last line.",
    });
  } finally {
    await closePdf(pdf);
  }
});
