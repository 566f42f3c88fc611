/** A file found under the inputs, or an entry that could not be used and why. */
export interface WalkEntry {
  /** Path as the file system knows it (under the input as given). */
  path: string;
  /** Path relative to its input; prefixed with the input's name when there are several inputs. */
  relPath: string;
  /** Set when the entry cannot be read as a file: the reason for the manifest. */
  problem?: string;
}

/**
 * Walks files and folders in a deterministic order (names sorted by code point). Symbolic links are
 * followed; loops, dangling links, FIFOs, sockets, devices and folders that cannot be listed are
 * returned as entries with a `problem`, never thrown. `.git`, `.hg` and `.svn` folders and
 * `excludeDirs` are not entered.
 *
 * @example
 * ```ts
 * for (const e of await walkInputs(["corpus"])) console.log(e.relPath, e.problem ?? "ok");
 * ```
 */
export async function walkInputs(
  inputs: readonly string[],
  opts: WalkOptions = {},
): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const prefixed = inputs.length > 1;
  const excluded = new Set<string>();
  for (const dir of opts.excludeDirs ?? []) {
    excluded.add(await Deno.realPath(dir).catch(() => dir));
  }
  const seen = new Set<string>();
  for (const [i, input] of inputs.entries()) {
    const name = basename(input);
    const found: WalkEntry[] = [];
    await visit(input, prefixed ? name : "", name, new Set(), found, true, excluded);
    for (const e of found) {
      // Two inputs with the same name (a/x.txt, b/x.txt) must not share manifest paths.
      if (seen.has(e.relPath)) e.relPath = `input${i + 1}/${e.relPath}`;
      seen.add(e.relPath);
      out.push(e);
    }
  }
  return out;
}

/** Options for {@linkcode walkInputs}. */
export interface WalkOptions {
  /** Folders never entered, e.g. the output folder when it lies inside an input. */
  excludeDirs?: readonly string[];
}

/** Version-control folders: never training text. */
const SKIPPED_FOLDERS = new Set([".git", ".hg", ".svn"]);

async function visit(
  path: string,
  relPath: string,
  name: string,
  ancestors: Set<string>,
  out: WalkEntry[],
  isRoot: boolean,
  excluded: ReadonlySet<string>,
): Promise<void> {
  const fileRel = relPath || name;
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    out.push({ path, relPath: fileRel, problem: `unreadable: ${describe(err)}` });
    return;
  }
  let real = path;
  if (info.isSymlink) {
    try {
      real = await Deno.realPath(path);
      info = await Deno.stat(real);
    } catch (err) {
      const msg = String((err as Error).message);
      const problem = /loop|too many levels/i.test(msg)
        ? "symlink loop: the link resolves to itself"
        : err instanceof Deno.errors.NotFound
        ? "unreadable: dangling symlink (target does not exist)"
        : `unreadable: ${describe(err)}`;
      out.push({ path, relPath: fileRel, problem });
      return;
    }
  } else if (info.isDirectory) {
    real = await Deno.realPath(path).catch(() => path);
  }
  if (info.isDirectory) {
    if (excluded.has(real) || (!isRoot && SKIPPED_FOLDERS.has(name))) return;
    if (ancestors.has(real)) {
      out.push({ path, relPath: fileRel, problem: "symlink loop: points to a folder above it" });
      return;
    }
    let names: string[];
    try {
      names = [];
      for await (const e of Deno.readDir(path)) names.push(e.name);
    } catch (err) {
      out.push({ path, relPath: fileRel, problem: `unreadable folder: ${describe(err)}` });
      return;
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const inner = new Set(ancestors).add(real);
    for (const n of names) {
      const childRel = isRoot && !relPath ? n : `${relPath}/${n}`;
      await visit(`${path}/${n}`, childRel, n, inner, out, false, excluded);
    }
    return;
  }
  if (!info.isFile) {
    const what = info.isFifo
      ? "a FIFO"
      : info.isSocket
      ? "a socket"
      : info.isCharDevice || info.isBlockDevice
      ? "a device"
      : "a special file";
    out.push({ path, relPath: fileRel, problem: `unreadable: not a regular file (${what})` });
    return;
  }
  out.push({ path, relPath: fileRel });
}

function describe(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotFound) return "no such file or folder";
  return (err as Error).message ?? String(err);
}

function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1) || trimmed;
}
