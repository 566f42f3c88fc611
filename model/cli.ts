/**
 * What every command-line entry point shares: numeric flag parsing with errors that name the flag,
 * secrets from a flag, a file or the environment, and one place that turns errors into a message
 * and an exit status.
 */
import { ZodError, type ZodType } from "zod";
import { ChecksumError, InputError } from "./errors.ts";

/** An integer flag of at least `min` (default 0), or undefined when absent. */
export function intFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    const expected = min === 0 ? "a non-negative integer" : `an integer ≥ ${min}`;
    throw new InputError(flag, `expected ${expected}, got "${value}"`);
  }
  return n;
}

/** A finite number flag, or undefined when absent. */
export function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InputError(flag, `expected a number, got "${value}"`);
  return n;
}

/**
 * A secret (job token, API key) from `--NAME VALUE`, `--NAME-file PATH` or the environment
 * variable `env`, in that order of precedence, or undefined when none is given. A value on the
 * command line shows in `ps` and in `/proc/PID/cmdline` to everyone on the host; a file (mode 0600)
 * or the variable (`/proc/PID/environ` is readable by its owner only) do not. Surrounding
 * whitespace, such as the newline most files end with, is not part of the secret.
 *
 * ```ts
 * const token = await secretFlag(flags, "token", "DENOFORMER_TOKEN");
 * ```
 */
export async function secretFlag(
  flags: Record<string, unknown>,
  name: string,
  env: string,
): Promise<string | undefined> {
  const value = flags[name] as string | undefined;
  const file = flags[`${name}-file`] as string | undefined;
  if (value !== undefined && file !== undefined) {
    throw new InputError(`--${name}-file`, `give --${name} or --${name}-file, not both`);
  }
  let secret = value ?? Deno.env.get(env);
  if (file !== undefined) {
    try {
      secret = await Deno.readTextFile(file);
    } catch (err) {
      throw new InputError(`--${name}-file`, `cannot read "${file}": ${(err as Error).message}`);
    }
  }
  if (secret === undefined) return undefined;
  secret = secret.trim();
  if (!secret) {
    const where = file !== undefined ? `--${name}-file` : value !== undefined ? `--${name}` : env;
    throw new InputError(where, file !== undefined ? `"${file}" is empty` : "is empty");
  }
  return secret;
}

/**
 * Parses a config built from flags with its schema; a refused field listed in `flags` (its path
 * joined with dots, e.g. `train.steps`, → flag) is reported as that flag, with the value given,
 * instead of as the config field.
 */
export function parseFlags<T>(
  schema: ZodType<T>,
  config: Record<string, unknown>,
  flags: Record<string, string>,
): T {
  const parsed = schema.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues.find((i) => i.path.join(".") in flags);
  if (!issue) throw parsed.error;
  const value = issue.path.reduce<unknown>(
    (at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key],
    config,
  );
  const given = value === undefined ? "not given" : `got ${JSON.stringify(value)}`;
  throw new InputError(flags[issue.path.join(".")], `${issue.message} (${given})`);
}

/** Reads one flag's string value, naming the flag in its errors. */
export type FlagReader = (value: string | undefined, flag: string) => unknown;

/** Config path (dotted, e.g. `train.steps`) → the flag that sets it and how its value is read. */
export type FlagTable = Record<string, readonly [flag: string, read: FlagReader]>;

/** A string flag's value as given. */
export const textFlag: FlagReader = (value) => value;

/** `parseArgs` options for every flag of `table` (all take a value). */
export function flagOptions(table: FlagTable): Record<string, { type: "string" }> {
  return Object.fromEntries(
    Object.values(table).map(([flag]) => [flag.slice(2), { type: "string" }]),
  );
}

/**
 * Sets every flag of `table` found in `values` (parseArgs output) at its path in a copy of `base`,
 * then parses with `schema`; a refused value is reported as the flag that set it.
 */
export function parseFlagTable<T>(
  schema: ZodType<T>,
  base: Record<string, unknown>,
  table: FlagTable,
  values: Record<string, unknown>,
): T {
  const config = structuredClone(base);
  for (const [path, [flag, read]] of Object.entries(table)) {
    const value = read(values[flag.slice(2)] as string | undefined, flag);
    if (value === undefined) continue;
    const keys = path.split(".");
    let at = config;
    for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[keys.at(-1)!] = value;
  }
  const flags = Object.fromEntries(Object.entries(table).map(([path, [flag]]) => [path, flag]));
  return parseFlags(schema, config, flags);
}

/** Runs an entry point's `main` with the process arguments, reporting errors as below. */
export async function runCli(main: (args: string[]) => Promise<void>): Promise<void> {
  try {
    await main(Deno.args);
  } catch (err) {
    reportAndExit(err);
  }
}

/** Prints an error for a person (no stack for input errors) and exits: 2 for bad input, 1 otherwise. */
export function reportAndExit(err: unknown): never {
  if (err instanceof InputError || err instanceof ChecksumError) {
    console.error(`error: ${err.message}`);
    Deno.exit(2);
  }
  if (err instanceof ZodError) {
    for (const issue of err.issues) {
      console.error(`error: ${issue.path.join(".") || "config"}: ${issue.message}`);
    }
    Deno.exit(2);
  }
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  Deno.exit(1);
}
