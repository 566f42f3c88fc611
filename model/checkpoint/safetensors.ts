/**
 * The safetensors format, as Hugging Face defines it: an 8-byte little-endian header length N, a
 * UTF-8 JSON header of N bytes (padded with spaces to a multiple of 8), then the tensor bytes. Each
 * header entry names a tensor and gives its dtype, shape and `data_offsets` [begin, end) into the
 * byte buffer after the header; the optional `__metadata__` entry is a string-to-string map.
 *
 * The reader checks what the reference implementation checks (offsets in range, contiguous,
 * non-overlapping, sizes matching dtype × shape, the buffer fully used) plus unique names, and its
 * errors name the file and the tensor. Tensor bytes are little-endian, as on every host we run on.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors(
 *   new Map([["w", { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) }]]),
 *   { format: "pt" },
 * );
 * const file = decodeSafetensors(bytes, "model.safetensors");
 * file.tensors.get("w"); // { dtype: "F32", shape: [2], data: Uint8Array(8) }
 * ```
 */
import { InputError } from "../errors.ts";

/** Element types of the format, with their size in bytes. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

/** A safetensors element type name, e.g. `"F32"`. */
export type Dtype = keyof typeof DTYPE_BYTES;

/** A tensor to write: its bytes may be any typed array (it is written as raw little-endian bytes). */
export interface TensorToWrite {
  dtype: Dtype;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** A tensor as read: `data` is a view of the file's bytes for this tensor. */
export interface TensorRead {
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

/** A decoded safetensors file. Tensors keep the order of their data offsets. */
export interface SafetensorsFile {
  tensors: Map<string, TensorRead>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Encodes tensors into safetensors bytes. Tensors are laid out by element size (largest first) then
 * name, so every tensor starts at an offset aligned to its element size, as the reference writer
 * does.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = [...tensors.keys()].sort((a, b) => {
    const sa = DTYPE_BYTES[tensors.get(a)!.dtype], sb = DTYPE_BYTES[tensors.get(b)!.dtype];
    return sb - sa || (a < b ? -1 : a > b ? 1 : 0);
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new InputError(name, "Reserved tensor name");
    const t = tensors.get(name)!;
    if (!(t.dtype in DTYPE_BYTES)) throw new InputError(name, `Unknown dtype "${t.dtype}"`);
    const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new InputError(
        name,
        `Tensor has ${t.data.byteLength} bytes but dtype "${t.dtype}" and shape ` +
          `[${t.shape.join(", ")}] need ${expected}`,
      );
    }
    header[name] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + expected],
    };
    offset += expected;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/**
 * Decodes and validates safetensors bytes. `source` (usually the path) prefixes every error.
 * Returned tensor data are views into `bytes`, not copies.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new InputError(source, msg);
  };
  if (bytes.length < 8) fail(`File is ${bytes.length} bytes, too short for a safetensors header`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`Header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) {
    fail(`Header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail("Header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail(`Header does not start with "{"`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`Header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("Header is not a JSON object");
  }
  const duplicate = firstDuplicateTopLevelKey(text);
  if (duplicate !== undefined) fail(`Tensor name "${duplicate}" appears twice in the header`);

  const data = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(`"__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`"__metadata__" value "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const at = (msg: string) => fail(`Tensor "${name}": ${msg}`);
    if (typeof value !== "object" || value === null) at("Entry is not an object");
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) at(`Unknown dtype "${dtype}"`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      at(`Shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      at(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) at(`data_offsets [${begin}, ${end}] end before they begin`);
    const need = elementCount(shape as number[]) * DTYPE_BYTES[dtype as Dtype];
    if (end - begin !== need) {
      at(
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but dtype "${dtype}" and ` +
          `shape [${(shape as number[]).join(", ")}] need ${need}`,
      );
    }
    if (end > data.length) {
      at(`data_offsets [${begin}, ${end}] run past the data (${data.length} bytes): truncated?`);
    }
    entries.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const e of entries) {
    if (e.begin !== expectedBegin) {
      fail(
        `Tensor "${e.name}": data_offsets begin at ${e.begin}, expected ${expectedBegin} ` +
          `(tensors must be contiguous and must not overlap)`,
      );
    }
    expectedBegin = e.end;
  }
  if (expectedBegin !== data.length) {
    fail(`Tensors cover ${expectedBegin} bytes but the file holds ${data.length} bytes of data`);
  }
  const tensors = new Map<string, TensorRead>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: data.subarray(e.begin, e.end) });
  }
  return { tensors, metadata };
}

/** Product of a shape's dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The keys of the header's top-level object, scanned directly from the JSON text, because
 * `JSON.parse` silently keeps only the last of two equal keys.
 */
function firstDuplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return undefined;
}
