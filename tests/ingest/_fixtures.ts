/**
 * Real test files made from scratch: PDFs (hand-written PDF objects with the standard Helvetica
 * font, text placed where asked, scanned pages as embedded images) and PNGs and TIFFs of text drawn
 * with a 5×7 bitmap font, scaled up and deflated with node:zlib. No external tools.
 */
import { crc32, deflateSync } from "node:zlib";
import { concatBytes } from "../../model/bytes.ts";

/** 8-bit grayscale pixels, row by row, 0 black. */
export interface GrayImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** A page laid out by hand: text runs where they are placed, and/or an image covering it. */
export interface PagePlan {
  /** Width and height in points; US Letter by default. */
  size?: [number, number];
  /** Text in content-stream order, Helvetica; `x`, `y` place the baseline, from the bottom left. */
  runs?: { x: number; y: number; text: string; size?: number }[];
  /** A grayscale image (a scan) stretched over the whole page, drawn under the text. */
  image?: GrayImage;
}

/**
 * A valid PDF with one page per entry of `pages`: a list of lines (Helvetica 12pt from the top
 * left, one `Tj` per line) or a {@linkcode PagePlan}. With `passwordProtected`, the trailer
 * carries a standard-security /Encrypt dictionary whose user password is not empty, so readers
 * must ask for a password.
 */
export function makePdf(
  pages: (string[] | PagePlan)[],
  opts: { passwordProtected?: boolean } = {},
): Uint8Array {
  const objects: Uint8Array[] = [];
  const obj = (body: string | Uint8Array) => {
    objects.push(typeof body === "string" ? latin1(body) : body);
    return objects.length; // object numbers start at 1
  };
  const catalog = obj("<< /Type /Catalog /Pages 2 0 R >>");
  const tree = obj(""); // filled in once the kids are known
  const font = obj(
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  );
  const kids = pages.map((page) => {
    const pageObj = obj(""); // filled in below, so that numbering matches page, then contents
    const plan = Array.isArray(page) ? {} : page;
    const [w, h] = plan.size ?? [612, 792];
    const content: string[] = Array.isArray(page) ? linesContent(page) : [];
    let xobject = "";
    if (plan.image) {
      const { width, height, pixels } = plan.image;
      const data = new Uint8Array(deflateSync(pixels));
      const im = obj(concatBytes([
        latin1(
          `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} ` +
            `/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode ` +
            `/Length ${data.length} >>\nstream\n`,
        ),
        data,
        latin1("\nendstream"),
      ]));
      xobject = ` /XObject << /Im1 ${im} 0 R >>`;
      content.push(`q ${w} 0 0 ${h} 0 0 cm /Im1 Do Q`);
    }
    for (const r of plan.runs ?? []) {
      content.push(
        `BT /F1 ${r.size ?? 12} Tf 1 0 0 1 ${r.x} ${r.y} Tm (${escapePdf(r.text)}) Tj ET`,
      );
    }
    const stream = content.join("\n");
    const contents = obj(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
    objects[pageObj - 1] = latin1(
      `<< /Type /Page /Parent ${tree} 0 R /MediaBox [0 0 ${w} ${h}] ` +
        `/Resources << /Font << /F1 ${font} 0 R >>${xobject} >> /Contents ${contents} 0 R >>`,
    );
    return pageObj;
  });
  objects[tree - 1] = latin1(
    `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`,
  );
  let encrypt = "";
  if (opts.passwordProtected) {
    const hex = (n: number) => "<" + "a5".repeat(n) + ">";
    const id = obj(`<< /Filter /Standard /V 1 /R 2 /O ${hex(32)} /U ${hex(32)} /P -4 >>`);
    encrypt = ` /Encrypt ${id} 0 R /ID [${hex(16)} ${hex(16)}]`;
  }
  const parts: Uint8Array[] = [latin1("%PDF-1.4\n")];
  let at = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(at);
    const part = concatBytes([latin1(`${i + 1} 0 obj\n`), body, latin1("\nendobj\n")]);
    parts.push(part);
    at += part.length;
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) xref += `${String(o).padStart(10, "0")} 00000 n \n`;
  xref += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${encrypt} >>\n` +
    `startxref\n${at}\n%%EOF\n`;
  parts.push(latin1(xref));
  return concatBytes(parts);
}

/** Lines in Helvetica 12pt, 14pt apart from the top left of a Letter page, one `Tj` each. */
function linesContent(lines: string[]): string[] {
  const content = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"];
  for (const line of lines) content.push(`(${escapePdf(line)}) Tj T*`);
  content.push("ET");
  return content;
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function escapePdf(s: string): string {
  return s.replace(/[\\()]/g, (c) => "\\" + c);
}

/** 5×7 glyphs, rows top to bottom, `#` inked. */
const FONT: Record<string, string[]> = {
  A: [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  B: ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
  C: [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
  D: ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
  E: ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
  F: ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
  G: [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
  H: ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  I: [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
  J: ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
  K: ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
  L: ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
  M: ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
  N: ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
  O: [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  P: ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
  Q: [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
  R: ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
  S: [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
  T: ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
  U: ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  V: ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
  W: ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
  X: ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
  Y: ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
  Z: ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
  "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
  "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
  "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
  "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
  "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
  "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
  "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
  "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
  "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
  " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
  ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
};

/** Grayscale pixels of `lines` drawn in the bitmap font: black on white, `scale` pixels per dot. */
export function renderText(
  lines: string[],
  scale = 4,
): { width: number; height: number; pixels: Uint8Array } {
  const margin = 8 * scale, advance = 6 * scale, lineHeight = 11 * scale;
  const cols = Math.max(...lines.map((l) => l.length));
  const width = 2 * margin + cols * advance, height = 2 * margin + lines.length * lineHeight;
  const pixels = new Uint8Array(width * height).fill(255);
  lines.forEach((line, row) => {
    [...line.toUpperCase()].forEach((ch, col) => {
      const glyph = FONT[ch];
      if (!glyph) throw new RangeError(`No glyph for "${ch}"`);
      for (let gy = 0; gy < 7; gy++) {
        for (let gx = 0; gx < 5; gx++) {
          if (glyph[gy][gx] !== "#") continue;
          const x0 = margin + col * advance + gx * scale,
            y0 = margin + row * lineHeight + gy * scale;
          for (let y = y0; y < y0 + scale; y++) {
            pixels.fill(0, y * width + x0, y * width + x0 + scale);
          }
        }
      }
    });
  });
  return { width, height, pixels };
}

/** An 8-bit grayscale PNG of the given pixels. */
export function encodePng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit, grayscale, deflate, adaptive filtering, no interlace
  return concatBytes([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/**
 * Pixels of `lines` of text with edges softened by a box blur, as antialiased or scanned text looks
 * (tesseract reads hard-edged blocky glyphs worse).
 */
export function softText(lines: string[], scale = 4, blurRadius = 2) {
  const { width, height, pixels } = renderText(lines, scale);
  return { width, height, pixels: boxBlur(width, height, pixels, blurRadius) };
}

/** A PNG of `lines` of text; see {@linkcode softText}. */
export function makeTextPng(lines: string[], scale = 4, blurRadius = 2): Uint8Array {
  const { width, height, pixels } = softText(lines, scale, blurRadius);
  return encodePng(width, height, pixels);
}

/** A TIFF of `lines` of text; see {@linkcode softText}. */
export function makeTextTiff(lines: string[]): Uint8Array {
  const { width, height, pixels } = softText(lines);
  return encodeTiff(width, height, pixels);
}

function boxBlur(width: number, height: number, pixels: Uint8Array, r: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0, n = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) {
          sum += pixels[yy * width + xx];
          n++;
        }
      }
      out[y * width + x] = Math.round(sum / n);
    }
  }
  return out;
}

/** An uncompressed 8-bit grayscale baseline TIFF (little-endian, one strip). */
export function encodeTiff(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const tags: [number, number, number][] = [ // tag, type (3 = SHORT, 4 = LONG), value
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8], // bits per sample
    [259, 3, 1], // no compression
    [262, 3, 1], // black is zero
    [273, 4, 0], // strip offset, patched below
    [277, 3, 1], // samples per pixel
    [278, 4, height], // rows per strip
    [279, 4, width * height], // strip byte count
  ];
  const ifdSize = 2 + tags.length * 12 + 4;
  const dataAt = 8 + ifdSize;
  tags[5][2] = dataAt;
  const out = new Uint8Array(dataAt + pixels.length);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 0x2a, 0x00]);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, tags.length, true);
  tags.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    dv.setUint16(at, tag, true);
    dv.setUint16(at + 2, type, true);
    dv.setUint32(at + 4, 1, true);
    if (type === 3) dv.setUint16(at + 8, value, true);
    else dv.setUint32(at + 8, value, true);
  });
  dv.setUint32(10 + tags.length * 12, 0, true); // no next IFD
  out.set(pixels, dataAt);
  return out;
}

/** A PNG chunk with its length and CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Character accuracy: 1 − edit distance / reference length, on whitespace-collapsed text. */
export function charAccuracy(reference: string, got: string): number {
  const a = reference.replace(/\s+/g, " ").trim(), b = got.replace(/\s+/g, " ").trim();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return 1 - prev[b.length] / a.length;
}
