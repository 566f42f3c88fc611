/**
 * Swapping two directory entries in one step: Linux's `renameat2` with `RENAME_EXCHANGE`, through
 * Deno's FFI. Replacing a directory that exists otherwise takes two renames (the old one aside,
 * the new one in), and a process killed between them leaves the name pointing at nothing.
 */

const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

/**
 * Swaps `a` and `b` atomically; returns false, having changed nothing, where this cannot be done:
 * another system than Linux, no FFI permission (it is never prompted for), a C library without
 * `renameat2`, or a file system that refuses the exchange.
 */
export function exchangePaths(a: string, b: string): boolean {
  if (Deno.build.os !== "linux") return false;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
    });
  } catch {
    return false;
  }
  try {
    const path = (p: string) => new TextEncoder().encode(p + "\0");
    return libc.symbols.renameat2(AT_FDCWD, path(a), AT_FDCWD, path(b), RENAME_EXCHANGE) === 0;
  } finally {
    libc.close();
  }
}
