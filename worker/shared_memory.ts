/**
 * Shared memory between processes on one Linux host, through libc over Deno's FFI: a file in
 * `/dev/shm`, sized with `posix_fallocate` (so a full tmpfs fails here, with an error, instead of
 * killing a process with SIGBUS when it first touches a page) and mapped with `mmap`. The TCP data
 * plane uses it to hand chunk payloads to a neighbour on the same host without the kernel copying
 * them through a socket twice (docs/allreduce.md).
 *
 * @example
 * ```ts
 * const mine = SharedSegment.create(16 << 20);
 * // ...tell the peer mine.path; it calls SharedSegment.open(path, 16 << 20)...
 * mine.unlink(); // once the peer has it mapped: nothing is left behind if either process dies
 * ```
 */

const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** Where named segments live. */
const DIRECTORY = "/dev/shm";
/** What a peer may ask this module to map: a named segment, or another process's memfd. */
const NAME = /^(\/dev\/shm\/denoformer-\d+-[0-9a-f]{16}|\/proc\/\d+\/fd\/\d+)$/;
const MFD_CLOEXEC = 1;

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
    if (!Deno.statSync(DIRECTORY).isDirectory) return libc;
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    // no FFI permission, no glibc, or no /dev/shm: the data plane stays on the socket
  }
  return libc;
}

/** Whether this process can create and map shared segments (Linux, glibc, /dev/shm, FFI). */
export function sharedMemoryAvailable(): boolean {
  return lib() !== null;
}

/** One mapped segment. */
export class SharedSegment {
  readonly path: string;
  /** The mapping; invalid after {@linkcode close}. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  #pointer: Deno.PointerObject | null;
  /** An anonymous segment's descriptor, which keeps its path valid. */
  #fd = -1;

  private constructor(path: string, pointer: Deno.PointerObject, length: number) {
    this.path = path;
    this.#pointer = pointer;
    this.bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length));
  }

  /** Creates, sizes and maps a new segment of `length` bytes for reading and writing. */
  static create(length: number): SharedSegment {
    const c = required();
    const random = crypto.getRandomValues(new Uint8Array(8));
    const path = `${DIRECTORY}/denoformer-${Deno.pid}-${
      Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
    const fd = c.symbols.open(cString(path), O_RDWR | O_CREAT | O_EXCL, 0o600);
    if (fd < 0) throw new Error(`Cannot create ${path}: errno ${errno(c)}`);
    try {
      const err = c.symbols.posix_fallocate(fd, 0n, BigInt(length));
      if (err !== 0) {
        throw new Error(
          `Cannot reserve ${length} bytes in ${path}: errno ${err} (${DIRECTORY} full?)`,
        );
      }
      return new SharedSegment(path, map(c, fd, length, PROT_READ | PROT_WRITE, path), length);
    } catch (err) {
      Deno.removeSync(path);
      throw err;
    } finally {
      c.symbols.close(fd);
    }
  }

  /**
   * Creates and maps an anonymous segment (a memfd) that lives as long as this process holds it:
   * nothing is left behind, whatever way the process ends. Other processes of the same user map
   * it through its `path`, `/proc/PID/fd/FD`.
   */
  static createAnonymous(length: number): SharedSegment {
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
      const segment = new SharedSegment(
        path,
        map(c, fd, length, PROT_READ | PROT_WRITE, path),
        length,
      );
      segment.#fd = fd;
      return segment;
    } catch (err) {
      c.symbols.close(fd);
      throw err;
    }
  }

  /**
   * Maps a peer's segment read-only, its first `length` bytes (default: all of it). `path` must
   * name a segment this module made (or a memfd) and the file must hold at least `length` bytes.
   */
  static open(path: string, length?: number): SharedSegment {
    const c = required();
    if (!NAME.test(path)) throw new Error(`Not a shared segment path: ${JSON.stringify(path)}`);
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

  /** Removes the file; the mappings stay valid until closed. */
  unlink(): void {
    try {
      Deno.removeSync(this.path);
    } catch {
      // already gone
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
  if (!c) throw new Error("Shared memory needs Linux with glibc, /dev/shm and --allow-ffi");
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
