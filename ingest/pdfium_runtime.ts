/**
 * What PDFium's WebAssembly imports, for reading documents from memory: the C library's few calls
 * out of WebAssembly (memory growth, the clock, `abort`, `setjmp`/`longjmp`), and a file system
 * with nothing in it. This stands in for the loader Emscripten generated beside the module: built
 * with its assertions on, that loader is thousands of lines that every thread would compile before
 * its first page, to set up a file system, a terminal and an environment PDFium never uses here.
 */

/** The exports the runtime itself calls, besides `memory` and the function table. */
interface RuntimeExports {
  memory: WebAssembly.Memory;
  __indirect_function_table: WebAssembly.Table;
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  emscripten_stack_get_current(): number;
  _emscripten_stack_restore(sp: number): void;
  setThrew(threw: number, value: number): void;
}

/** errno values, as Emscripten's C library numbers them. */
const EBADF = 8, ENOENT = 44;
/** Growth beyond the request, as Emscripten's loader does it: 20%, at most 96 MiB. */
const GROWTH = 0.2, MAX_OVERGROWTH = 96 * 1024 * 1024, PAGE = 65536;

/** A running instance: its exports and the heap as it is now (views are remade after growth). */
export interface PdfiumInstance {
  exports: Record<string, unknown>;
  heapU8(): Uint8Array;
  heapF32(): Float32Array;
  heapF64(): Float64Array;
}

/**
 * Instantiates `module` and runs its static constructors. A trap or `abort` inside it surfaces as a
 * `WebAssembly.RuntimeError`; a module whose imports this runtime lacks rejects with a `LinkError`.
 */
export async function instantiatePdfium(module: WebAssembly.Module): Promise<PdfiumInstance> {
  // Set once instantiated; the imports below read it when PDFium calls them.
  // deno-lint-ignore prefer-const
  let ex!: RuntimeExports;
  let buffer: ArrayBufferLike | undefined;
  let u8 = new Uint8Array(0), i32 = new Int32Array(0);
  let f32 = new Float32Array(0), f64 = new Float64Array(0);
  const views = () => {
    if (ex.memory.buffer !== buffer) {
      const now = buffer = ex.memory.buffer as ArrayBuffer;
      [u8, i32, f32, f64] = [
        new Uint8Array(now),
        new Int32Array(now),
        new Float32Array(now),
        new Float64Array(now),
      ];
    }
  };
  const fail = (why: string): never => {
    throw new WebAssembly.RuntimeError(`PDFium aborted: ${why}`);
  };
  const cString = (ptr: number) => {
    views();
    const end = u8.indexOf(0, ptr);
    return new TextDecoder().decode(u8.subarray(ptr, end < 0 ? ptr : end));
  };
  /** `struct tm` of a `time_t` given as two 32-bit halves, in UTC: the only zone PDFium sees. */
  const tm = (low: number, high: number, at: number) => {
    views();
    const d = new Date((high * 2 ** 32 + (low >>> 0)) * 1000);
    const yday = Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000);
    i32.set([
      d.getUTCSeconds(),
      d.getUTCMinutes(),
      d.getUTCHours(),
      d.getUTCDate(),
      d.getUTCMonth(),
      d.getUTCFullYear() - 1900,
      d.getUTCDay(),
      yday,
      0, // not daylight saving time
      0, // seconds east of UTC
    ], at >> 2);
  };
  /**
   * `invoke_*`: a call through the function table that `longjmp` may leave. Emscripten's `longjmp`
   * throws a number; the stack is put back and the `setjmp` told, as its loader does.
   */
  const invoke = (index: number, ...args: number[]) => {
    const sp = ex.emscripten_stack_get_current();
    try {
      return (ex.__indirect_function_table.get(index) as (...a: number[]) => number)(...args);
    } catch (err) {
      ex._emscripten_stack_restore(sp);
      if (typeof err !== "number") throw err;
      ex.setThrew(1, 0);
    }
  };
  const env: Record<string, (...args: number[]) => unknown> = {
    _abort_js: () => fail("abort()"),
    __assert_fail: (cond, file, line) =>
      fail(`assertion ${cString(cond)} (${cString(file)}:${line})`),
    _emscripten_throw_longjmp: () => {
      throw Infinity;
    },
    _emscripten_memcpy_js: (dest, src, n) => (views(), u8.copyWithin(dest, src, src + n)),
    emscripten_date_now: () => Date.now(),
    emscripten_resize_heap: (requested) => {
      const old = ex.memory.buffer.byteLength;
      requested >>>= 0;
      for (let cut = 1; cut <= 4; cut *= 2) {
        const want = Math.max(
          requested,
          Math.min(old * (1 + GROWTH / cut), requested + MAX_OVERGROWTH),
        );
        const size = Math.ceil(want / PAGE) * PAGE;
        try {
          ex.memory.grow((size - old) / PAGE);
          return 1;
        } catch {
          // try a smaller step; past the module's maximum, malloc returns null
        }
      }
      return 0;
    },
    _tzset_js: (timezone, daylight, stdName, dstName) => {
      views();
      i32[timezone >> 2] = 0;
      i32[daylight >> 2] = 0;
      for (const at of [stdName, dstName]) u8.set([0x55, 0x54, 0x43, 0], at); // "UTC"
    },
    _gmtime_js: tm,
    _localtime_js: tm,
    // The file system: nothing to open, so nothing to read, write, list or remove.
    __syscall_openat: () => -ENOENT,
    __syscall_stat64: () => -ENOENT,
    __syscall_lstat64: () => -ENOENT,
    __syscall_newfstatat: () => -ENOENT,
    __syscall_unlinkat: () => -ENOENT,
    __syscall_rmdir: () => -ENOENT,
    __syscall_fstat64: () => -EBADF,
    __syscall_fcntl64: () => -EBADF,
    __syscall_ioctl: () => -EBADF,
    __syscall_getdents64: () => -EBADF,
    __syscall_ftruncate64: () => -EBADF,
  };
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (from === "env" && name.startsWith("invoke_")) env[name] = invoke;
  }
  const wasi: Record<string, (...args: number[]) => number> = {
    // stdout and stderr take (and drop) whatever PDFium prints; every other descriptor is closed.
    fd_write: (fd, iov, count, written) => {
      if (fd !== 1 && fd !== 2) return EBADF;
      views();
      let n = 0;
      for (let i = 0; i < count; i++) n += i32[(iov >> 2) + 2 * i + 1];
      i32[written >> 2] = n;
      return 0;
    },
    fd_read: () => EBADF,
    fd_seek: () => EBADF,
    fd_sync: () => EBADF,
    fd_close: () => EBADF,
    // An empty environment.
    environ_sizes_get: (count, bytes) => {
      views();
      i32[count >> 2] = i32[bytes >> 2] = 0;
      return 0;
    },
    environ_get: () => 0,
  };
  const instance = await WebAssembly.instantiate(module, { env, wasi_snapshot_preview1: wasi });
  ex = instance.exports as unknown as RuntimeExports;
  ex.emscripten_stack_init();
  ex.__wasm_call_ctors();
  return {
    exports: instance.exports,
    heapU8: () => (views(), u8),
    heapF32: () => (views(), f32),
    heapF64: () => (views(), f64),
  };
}
