/**
 * The injected logger: JSON lines with a component and whatever context the caller binds (rank,
 * step). Entry points create one; library code receives it.
 *
 * @example
 * ```ts
 * const log = jsonLogger({ component: "worker", rank: 0 });
 * log.info("joined", { peers: 2 });
 * ```
 */
export interface Logger {
  /** Per-step chatter, written only when `DENOFORMER_LOG=debug`. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Writes one JSON object per line to `sink` (stderr by default, keeping stdout for results).
 * Debug lines are dropped unless `debug` is set; by default it follows `DENOFORMER_LOG=debug`.
 */
export function jsonLogger(
  context: Record<string, unknown>,
  sink: (line: string) => void = (line) => console.error(line),
  debug = Deno.env.get("DENOFORMER_LOG") === "debug",
): Logger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) =>
    sink(JSON.stringify({ time: new Date().toISOString(), level, ...context, msg, ...fields }));
  return {
    debug: debug ? (msg, fields) => write("debug", msg, fields) : () => {},
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => jsonLogger({ ...context, ...fields }, sink, debug),
  };
}

/** A logger that drops everything, for tests and quiet library use. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
