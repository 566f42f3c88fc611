/**
 * What every command-line entry point shares: numeric flag parsing with errors that name the flag,
 * and one place that turns errors into a message and an exit status.
 */
import { ZodError } from "zod";
import { ChecksumError, InputError } from "./errors.ts";

/** A positive integer flag, or undefined when absent. */
export function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InputError(flag, `expected a non-negative integer, got "${value}"`);
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
