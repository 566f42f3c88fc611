/** What a file's bytes say it is. */
export type Detected =
  | { kind: "empty" }
  | { kind: "pdf" }
  | { kind: "image"; format: "png" | "jpeg" | "webp" | "tiff" }
  | { kind: "binary"; what: string }
  | { kind: "text" | "code"; language?: string }
  /** The extension promises a format whose signature is missing. */
  | { kind: "pdf" | "image"; corrupt: string };

const CODE_LANGUAGES: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  py: "python",
  rs: "rust",
  go: "go",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hpp: "cpp",
  hh: "cpp",
  java: "java",
  kt: "kotlin",
  scala: "scala",
  rb: "ruby",
  php: "php",
  cs: "csharp",
  swift: "swift",
  m: "objective-c",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  sql: "sql",
  html: "html",
  htm: "html",
  css: "css",
  scss: "scss",
  less: "less",
  json: "json",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  xml: "xml",
  lua: "lua",
  r: "r",
  hs: "haskell",
  ml: "ocaml",
  zig: "zig",
  proto: "protobuf",
  jl: "julia",
  dart: "dart",
  ex: "elixir",
  erl: "erlang",
  clj: "clojure",
  vue: "vue",
  svelte: "svelte",
  tf: "terraform",
  nix: "nix",
};
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: "PNG",
  jpg: "JPEG",
  jpeg: "JPEG",
  webp: "WebP",
  tif: "TIFF",
  tiff: "TIFF",
};
const BINARY_MAGIC: [number[], string][] = [
  [[0x7f, 0x45, 0x4c, 0x46], "ELF executable"],
  [[0x50, 0x4b, 0x03, 0x04], "ZIP archive"],
  [[0x1f, 0x8b], "gzip data"],
  [[0x47, 0x49, 0x46, 0x38], "GIF image (not supported for OCR)"],
  [[0x42, 0x4d], "BMP image (not supported)"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd data"],
  [[0x37, 0x7a, 0xbc, 0xaf], "7z archive"],
  [[0x4f, 0x67, 0x67, 0x53], "Ogg media"],
];

/**
 * Detects a file's kind from its leading bytes (magic numbers) first, its extension second:
 * a PDF named `.txt` is a PDF; a `.png` without the PNG signature is a corrupt image.
 */
export function detectKind(bytes: Uint8Array, name: string): Detected {
  if (bytes.length === 0) return { kind: "empty" };
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { kind: "pdf" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: "image", format: "png" };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: "image", format: "jpeg" };
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && ascii(bytes, 8, 4) === "WEBP") {
    return { kind: "image", format: "webp" };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: "image", format: "tiff" };
  }
  const ext = extension(name);
  if (ext === "pdf") return { kind: "pdf", corrupt: "corrupt PDF: no %PDF- header" };
  if (ext in IMAGE_EXTENSIONS) {
    return {
      kind: "image",
      corrupt: `corrupt image: .${ext} file without a ${IMAGE_EXTENSIONS[ext]} signature`,
    };
  }
  for (const [magic, what] of BINARY_MAGIC) {
    if (startsWith(bytes, magic)) return { kind: "binary", what };
  }
  if (!hasTextBom(bytes)) {
    const head = bytes.subarray(0, 65536);
    if (head.includes(0)) return { kind: "binary", what: "binary data (NUL bytes)" };
    let control = 0;
    for (const b of head) {
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
    }
    if (control > head.length * 0.1) return { kind: "binary", what: "binary data (control bytes)" };
  }
  const language = CODE_LANGUAGES[ext];
  return language ? { kind: "code", language } : { kind: "text" };
}

/** Lower-case extension without the dot, or "". */
export function extension(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const i = base.lastIndexOf(".");
  return i > 0 ? base.slice(i + 1).toLowerCase() : "";
}

function hasTextBom(b: Uint8Array): boolean {
  return startsWith(b, [0xff, 0xfe]) || startsWith(b, [0xfe, 0xff]);
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((m, i) => bytes[i] === m);
}

function ascii(bytes: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + n));
}
