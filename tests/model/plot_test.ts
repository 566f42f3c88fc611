import assert from "node:assert/strict";
import { escapeXml, heatmapSvg, lineChartSvg, scatterSvg } from "../../model/plot/mod.ts";

/**
 * A small well-formedness check: every tag nests, attributes are quoted, text holds no raw `<`
 * and only known entities. Returns the element names in document order and the text content.
 */
function parseXml(svg: string): { elements: string[]; texts: string[] } {
  const token =
    /<\/([A-Za-z][\w:-]*)\s*>|<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: string[] = [], elements: string[] = [], texts: string[] = [];
  let i = 0;
  while (i < svg.length) {
    token.lastIndex = i;
    const m = token.exec(svg);
    assert.ok(m, `Malformed XML at offset ${i}: ${JSON.stringify(svg.slice(i, i + 60))}`);
    const [whole, close, open, attrs, selfClose, text] = m;
    if (close) assert.equal(stack.pop(), close, `</${close}> closes the wrong element`);
    else if (open) {
      elements.push(open);
      if (!selfClose) stack.push(open);
      for (const [, value] of (attrs ?? "").matchAll(/="([^"]*)"/g)) checkEntities(value);
    } else {
      checkEntities(text);
      if (text.trim()) texts.push(decode(text));
    }
    i += whole.length;
  }
  assert.deepEqual(stack, [], "every element closed");
  assert.equal(elements[0], "svg");
  return { elements, texts };
}

function checkEntities(s: string) {
  for (const [e] of s.matchAll(/&[^;]*;?/g)) assert.match(e, /^&(amp|lt|gt|quot|apos);$/, e);
}

function decode(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[e as "amp"],
  );
}

/** Python's XML parser as a second, independent judge (skipped without python3). */
async function pythonParses(svg: string): Promise<boolean | undefined> {
  try {
    const p = new Deno.Command("python3", {
      args: ["-c", "import sys, xml.etree.ElementTree as E; E.fromstring(sys.stdin.buffer.read())"],
      stdin: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(svg));
    await w.close();
    return (await p.output()).success;
  } catch {
    return undefined;
  }
}

const nastyTitle = `Loss <fp16> & "fp32" 'run'`;

Deno.test("line chart is well-formed XML with title, axis labels, ticks and a legend", async () => {
  const svg = lineChartSvg({
    title: nastyTitle,
    xLabel: "step",
    yLabel: "loss",
    series: [
      { name: "train", points: [[0, 8], [50, 5], [100, 3]] },
      { name: "val <held out>", points: [[0, 8.2], [100, 3.4]] },
    ],
  });
  const { texts } = parseXml(svg);
  assert.notEqual(await pythonParses(svg), false);
  for (const t of [nastyTitle, "step", "loss", "train", "val <held out>", "0", "100", "4", "8"]) {
    assert.ok(texts.includes(t), `text "${t}" in ${JSON.stringify(texts)}`);
  }
  assert.equal((svg.match(/<path /g) ?? []).length, 2, "one line per series");
});

Deno.test("line chart skips NaN and infinite points, breaking the line there", () => {
  const svg = lineChartSvg({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [{
      name: "loss",
      points: [[0, 3], [1, 2], [2, NaN], [3, Infinity], [4, 1], [5, 0.5], [NaN, 1], [7, -Infinity]],
    }, { name: "all bad", points: [[0, NaN], [1, Infinity]] }],
  });
  parseXml(svg);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  const d = /<path d="([^"]*)"/.exec(svg)![1];
  assert.equal(d.match(/M/g)?.length, 2, `two runs: ${d}`);
  assert.equal(d.match(/L/g)?.length, 2);
});

Deno.test("log-scale line chart drops non-positive values and labels powers of ten", () => {
  const points: [number, number][] = [[0, 0], [1, -1], [2, 1000], [3, 10], [4, 0.1]];
  const svg = lineChartSvg({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    logY: true,
    series: [{ name: "s", points }],
  });
  const { texts } = parseXml(svg);
  for (const t of ["0.1", "1", "10", "100", "1000"]) assert.ok(texts.includes(t), t);
  assert.equal(/<path d="([^"]*)"/.exec(svg)![1].match(/[ML]/g)?.length, 3);
});

Deno.test("line chart with no usable data, one point, or 100k points still renders", () => {
  const empty = lineChartSvg({ title: "t", xLabel: "x", yLabel: "y", series: [] });
  assert.ok(parseXml(empty).texts.includes("no data"));
  const one = lineChartSvg({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [{ name: "a", points: [[5, 2]] }],
  });
  parseXml(one);
  assert.match(one, /<circle /, "a lone point is drawn as a dot");
  const many = Array.from(
    { length: 100_000 },
    (_, i) => [i, Math.exp(-i / 1e4)] as [number, number],
  );
  parseXml(
    lineChartSvg({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", points: many }] }),
  );
});

Deno.test("heatmap has one cell per entry, token labels, grey NaN cells and a colour bar", async () => {
  const tokens = ["<s>", "a&b", "c"];
  const m = [[1, 0, 0], [0.5, NaN, 0], [0.2, 0.3, 0.5]];
  const svg = heatmapSvg(m, {
    title: nastyTitle,
    xLabel: "key",
    yLabel: "query",
    xTickLabels: tokens,
    yTickLabels: tokens,
  });
  const { elements, texts } = parseXml(svg);
  assert.notEqual(await pythonParses(svg), false);
  for (const t of [nastyTitle, "key", "query", ...tokens, "0", "1"]) {
    assert.ok(texts.includes(t), t);
  }
  assert.equal((svg.match(/<rect [^>]*fill="rgb\(/g) ?? []).length, 8, "8 finite cells coloured");
  assert.equal((svg.match(/fill="#bbbbbb"/g) ?? []).length, 1, "the NaN cell is grey");
  assert.ok(elements.includes("linearGradient"));
  assert.match(svg, /fill="url\(#heatmap-colorbar\)"/);
  assert.match(svg, /rgb\(68,1,84\)/, "the minimum is viridis' dark end");
  assert.match(svg, /rgb\(253,231,37\)/, "the maximum is viridis' bright end");
  assert.throws(() => heatmapSvg([[1, 2], [3]], { title: "", xLabel: "", yLabel: "" }), RangeError);
  parseXml(heatmapSvg([new Float32Array(200).fill(1)], { title: "flat", xLabel: "", yLabel: "" }));
});

Deno.test("scatter puts each label beside its point, colours groups and skips bad points", async () => {
  const svg = scatterSvg({
    title: "Embeddings",
    xLabel: "PC 1",
    yLabel: "PC 2",
    points: [
      { x: 0, y: 0, label: "king", group: "royal" },
      { x: 1, y: 0.5, label: "queen", group: "royal" },
      { x: -1, y: 2, label: "<unk> & co", group: "special" },
      { x: NaN, y: 1, label: "lost" },
      { x: 2, y: Infinity, label: "lost too" },
    ],
  });
  const { texts } = parseXml(svg);
  assert.notEqual(await pythonParses(svg), false);
  for (const t of ["king", "queen", "<unk> & co", "royal", "special", "PC 1", "PC 2"]) {
    assert.ok(texts.includes(t), t);
  }
  assert.ok(!texts.includes("lost") && !texts.includes("lost too"));
  const circle =
    /<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*\/>\n<text x="([\d.]+)" y="([\d.]+)"[^>]*>king</
      .exec(svg);
  assert.ok(circle, "king's label follows its point");
  const [cx, cy, tx, ty] = circle.slice(1).map(Number);
  assert.ok(Math.abs(tx - cx) <= 8 && Math.abs(ty - cy) <= 8, "label sits beside the point");
  assert.equal((svg.match(/<circle /g) ?? []).length, 3 + 2, "3 points + 2 legend markers");
});

Deno.test("escapeXml makes any text safe as content and attribute", () => {
  assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  assert.equal(escapeXml("bell\u0007"), "bell\ufffd");
});
