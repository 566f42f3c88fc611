/**
 * PDFium, Chrome's PDF engine, compiled to WebAssembly (`@embedpdf/pdfium`): one instance per
 * thread, made on first use. The main thread compiles the module once, when a worker thread first
 * asks ({@linkcode pdfiumModuleFrom}), and gives it to each thread that asks: a compiled module
 * crosses `postMessage` without being compiled again, and the threads then share the machine code
 * V8 optimises as pages are read. A WebAssembly trap (PDFium aborting on a file it cannot survive)
 * leaves an instance unusable, so {@linkcode dropPdfiumAfter} discards it and the next use makes a
 * fresh one.
 */
import type { Methods } from "@embedpdf/pdfium";
import { instantiatePdfium } from "./pdfium_runtime.ts";

const WASM = new URL("../node_modules/@embedpdf/pdfium/dist/pdfium.wasm", import.meta.url);

/**
 * PDFium's C functions as the WebAssembly module exports them: numbers in, a number out (pointers
 * for strings and out-parameters, 0 or 1 for booleans). Called directly, not through the wrapper's
 * `ccall`, whose argument conversion costs more than the calls themselves on a page's characters.
 */
export type PdfiumFunctions = { [K in keyof Methods]: (...args: number[]) => number };

/** An initialised PDFium instance with a few bytes of scratch memory for out-parameters. */
export interface Pdfium {
  fn: PdfiumFunctions;
  /** 64 bytes for the C functions that answer through pointers (boxes, matrices). */
  scratch: number;
  malloc(bytes: number): number;
  free(ptr: number): void;
  heapU8(): Uint8Array;
  heapF32(): Float32Array;
  heapF64(): Float64Array;
}

/** The C allocator the module exports beside PDFium's functions. */
interface CAllocator {
  malloc(bytes: number): number;
  free(ptr: number): void;
}

let instance: Promise<Pdfium> | undefined;
let shared: WebAssembly.Module | undefined;
let source: (() => Promise<WebAssembly.Module | undefined>) | undefined;

/** Compiles PDFium's WebAssembly, for the threads that read PDFs (see {@linkcode pdfiumModuleFrom}). */
export async function compilePdfium(): Promise<WebAssembly.Module> {
  return await WebAssembly.compile(await Deno.readFile(WASM));
}

/**
 * Where this thread gets its compiled module on first use, rather than compiling its own; a module
 * that cannot be instantiated is not kept, and the next use asks again.
 */
export function pdfiumModuleFrom(ask: () => Promise<WebAssembly.Module | undefined>): void {
  source = ask;
}

/** This thread's PDFium instance. */
export function pdfium(): Promise<Pdfium> {
  return instance ??= (async (): Promise<Pdfium> => {
    shared ??= await source?.();
    const wasm = await instantiatePdfium(shared ?? await compilePdfium());
    const fn = wasm.exports as unknown as PdfiumFunctions & CAllocator;
    fn.PDFiumExt_Init();
    return {
      fn,
      scratch: fn.malloc(64),
      malloc: (n) => {
        const ptr = fn.malloc(n);
        if (!ptr) throw new RangeError(`PDFium could not allocate ${n} bytes`);
        return ptr;
      },
      free: (p) => fn.free(p),
      heapU8: wasm.heapU8,
      heapF32: wasm.heapF32,
      heapF64: wasm.heapF64,
    };
  })().catch((err) => {
    instance = shared = undefined;
    throw err;
  });
}

/**
 * Whether `err` is a trap inside PDFium, after which its instance is unusable (an `abort` or a
 * failed assertion in PDFium throws one too: see `pdfium_runtime.ts`).
 */
export function isTrap(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError;
}

/** Discards this thread's instance after `err` if it was a trap. */
export function dropPdfiumAfter(err: unknown): void {
  if (isTrap(err)) instance = undefined;
}
