/**
 * The few error classes callers catch. Everything else uses the built-in classes by meaning.
 *
 * Messages start with a capital, quote values, and name the file, field or flag at fault.
 */

/** Bad user input: a flag, a config field, a request field or a file's content. */
export class InputError extends Error {
  /** The flag, field or path the user must fix, e.g. `--steps` or `config.json: width`. */
  readonly where: string;
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(`${where}: ${message}`, options);
    this.name = "InputError";
    this.where = where;
  }
}

/** A file whose bytes do not match the checksum recorded for it. */
export class ChecksumError extends Error {
  readonly path: string;
  constructor(path: string, expected: string, actual: string) {
    super(`Checksum mismatch for "${path}": expected sha256 ${expected}, got ${actual}`);
    this.name = "ChecksumError";
    this.path = path;
  }
}
