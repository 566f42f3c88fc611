/**
 * Cheap structural checks before OCR, so a corrupt image is reported with a reason instead of
 * reaching the OCR engine. Returns the problem, or undefined when the image looks whole.
 */
export async function checkImage(
  bytes: Uint8Array,
  format: "png" | "jpeg" | "webp" | "tiff",
): Promise<string | undefined> {
  switch (format) {
    case "png":
      return checkPng(bytes, (await import("node:zlib")).crc32);
    case "jpeg": {
      const end = bytes.subarray(Math.max(0, bytes.length - 64));
      for (let i = end.length - 2; i >= 0; i--) if (end[i] === 0xff && end[i + 1] === 0xd9) return;
      return "truncated JPEG: no end-of-image marker";
    }
    case "webp": {
      const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
      return size + 8 > bytes.length
        ? `truncated WebP: header says ${size + 8} bytes, file has ${bytes.length}`
        : undefined;
    }
    case "tiff":
      return bytes.length < 16 ? "truncated TIFF" : undefined;
  }
}

/**
 * Walks the PNG chunks: lengths in bounds, CRCs right, IHDR first, IEND last. `crc32` comes from
 * `node:zlib`, imported only for a PNG: Node's modules would add to every worker thread's start.
 */
function checkPng(bytes: Uint8Array, crc32: (data: Uint8Array) => number): string | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 8, first = true;
  while (at + 12 <= bytes.length) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (first && type !== "IHDR") return `corrupt PNG: first chunk is "${type}", not IHDR`;
    first = false;
    if (at + 12 + len > bytes.length) {
      return `corrupt PNG: chunk "${type}" runs past the end of the file`;
    }
    const crc = dv.getUint32(at + 8 + len);
    if (crc !== crc32(bytes.subarray(at + 4, at + 8 + len))) {
      return `corrupt PNG: bad CRC in chunk "${type}"`;
    }
    if (type === "IEND") return undefined;
    at += 12 + len;
  }
  return "corrupt PNG: truncated before the IEND chunk";
}
