/**
 * Shared memory between processes of one user on one Linux host, through libc over Deno's FFI: an
 * anonymous file (`memfd_create`), sized with `posix_fallocate` (so running out of memory fails
 * here, with an error, instead of killing a process with SIGBUS when it first touches a page) and
 * mapped with `mmap`. Another process maps it through `/proc/PID/fd/FD` while the creator holds
 * it; it has no name anywhere else, so nothing is left behind however either process ends. The
 * TCP data plane uses it to hand chunk payloads to a neighbour on the same host without the
 * kernel copying them through a socket twice (docs/allreduce.md).
 *
 * @example
 * ```ts
 * const mine = SharedSegment.create(16 << 20);
 * // ...tell the peer mine.path; it calls SharedSegment.open(path)...
 * ```
 */

const O_RDONLY = 0;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
const MFD_CLOEXEC = 1;

/** What a peer may ask this module to map: another process's memfd, nothing else. */
const PATH = /^\/proc\/\d+\/fd\/\d+$/;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | null | undefined;

function lib(): Deno.DynamicLibrary<typeof SYMBOLS> | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    // no FFI permission or no glibc: the data plane stays on the socket
  }
  return libc;
}

/** Whether this process can create and map shared segments (Linux, glibc, FFI allowed). */
export function sharedMemoryAvailable(): boolean {
  return lib() !== null;
}

/** One mapped segment. */
export class SharedSegment {
  /** Where another process of this user opens it: `/proc/PID/fd/FD`. */
  readonly path: string;
  /** The mapping; invalid after {@linkcode close}. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  #pointer: Deno.PointerObject | null;
  /** A created segment's descriptor, which keeps its path valid; -1 for one opened. */
  #fd: number;

  private constructor(path: string, pointer: Deno.PointerObject, length: number, fd = -1) {
    this.path = path;
    this.#pointer = pointer;
    this.#fd = fd;
    this.bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length));
  }

  /** Creates and maps a zeroed segment of `length` bytes for reading and writing. */
  static create(length: number): SharedSegment {
    const c = required();
    const fd = c.symbols.memfd_create(cString("denoformer"), MFD_CLOEXEC);
    if (fd < 0) throw new Error(`memfd_create failed: errno ${errno(c)}`);
    const path = `/proc/${Deno.pid}/fd/${fd}`;
    try {
      if (c.symbols.ftruncate(fd, BigInt(length)) !== 0) {
        throw new Error(`Cannot size a ${length}-byte memfd: errno ${errno(c)}`);
      }
      const err = c.symbols.posix_fallocate(fd, 0n, BigInt(length));
      if (err !== 0) throw new Error(`Cannot reserve ${length} bytes of memory: errno ${err}`);
      return new SharedSegment(path, map(c, fd, length, PROT_READ | PROT_WRITE, path), length, fd);
    } catch (err) {
      c.symbols.close(fd);
      throw err;
    }
  }

  /**
   * Maps another process's segment read-only: its first `length` bytes, or all of it. `path` must
   * have the form `/proc/PID/fd/FD` and the file must hold at least `length` bytes.
   */
  static open(path: string, length?: number): SharedSegment {
    const c = required();
    if (!PATH.test(path)) throw new Error(`Not a shared segment path: ${JSON.stringify(path)}`);
    const fd = c.symbols.open(cString(path), O_RDONLY, 0);
    if (fd < 0) throw new Error(`Cannot open ${path}: errno ${errno(c)}`);
    try {
      const size = Deno.statSync(path).size;
      length ??= size;
      if (size < length || length < 1) {
        throw new Error(`${path} holds ${size} bytes, not ${length}`);
      }
      return new SharedSegment(path, map(c, fd, length, PROT_READ, path), length);
    } finally {
      c.symbols.close(fd);
    }
  }

  /** Unmaps the segment. Nothing may touch `bytes` (or a view of it) afterwards. */
  close(): void {
    this.closer()();
    this.#pointer = null;
    this.#fd = -1;
  }

  /**
   * What {@linkcode close} does, as a function that holds no reference to `bytes`: a
   * FinalizationRegistry can call it once the mapping's memory is unreachable.
   */
  closer(): () => void {
    const [pointer, length, fd] = [this.#pointer, BigInt(this.bytes.length), this.#fd];
    return () => {
      if (pointer) required().symbols.munmap(pointer, length);
      if (fd >= 0) required().symbols.close(fd);
    };
  }
}

function required(): Deno.DynamicLibrary<typeof SYMBOLS> {
  const c = lib();
  if (!c) throw new Error("Shared memory needs Linux with glibc and --allow-ffi");
  return c;
}

function map(
  c: Deno.DynamicLibrary<typeof SYMBOLS>,
  fd: number,
  length: number,
  prot: number,
  path: string,
): Deno.PointerObject {
  const p = c.symbols.mmap(null, BigInt(length), prot, MAP_SHARED, fd, 0n);
  if (p === null || BigInt(Deno.UnsafePointer.value(p)) === MAP_FAILED) {
    throw new Error(`Cannot map ${path}: errno ${errno(c)}`);
  }
  return p;
}

function errno(c: Deno.DynamicLibrary<typeof SYMBOLS>): number {
  return new Deno.UnsafePointerView(c.symbols.__errno_location()!).getInt32();
}

function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${s}\0`);
}
