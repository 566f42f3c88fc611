/** Saving a chart: SVG as is, PNG through rsvg-convert (Debian's librsvg2-bin). */
import { atomicWriteText } from "../atomic_write.ts";
import { InputError } from "../errors.ts";

/** The picture format a file name asks for, or undefined when it is neither SVG nor PNG. */
export function imageFormat(path: string): "svg" | "png" | undefined {
  return path.toLowerCase().match(/\.(svg|png)$/)?.[1] as "svg" | "png" | undefined;
}

/**
 * Writes `svg` to `path` (.svg), or converts it with rsvg-convert (.png); returns the path.
 * PNG suits pictures of thousands of cells, which as SVG are one element each.
 */
export async function writeImage(path: string, svg: string): Promise<string> {
  const format = imageFormat(path);
  if (!format) throw new InputError(path, "expected a .svg or .png file name");
  if (format === "svg") {
    await atomicWriteText(path, svg);
    return path;
  }
  let child;
  try {
    child = new Deno.Command("rsvg-convert", {
      args: ["--format", "png", "--background-color", "white", "--output", path],
      stdin: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    const svgPath = path.replace(/\.png$/i, ".svg");
    throw new InputError(
      path,
      `PNG needs rsvg-convert (Debian: apt-get install librsvg2-bin); write "${svgPath}" instead`,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(svg));
  await writer.close();
  const { code, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(`rsvg-convert failed for "${path}": ${new TextDecoder().decode(stderr)}`);
  }
  return path;
}
