/** zod validation at the RPC edge: a decoded message becomes a trusted value or an InputError. */
import { z } from "zod";
import { InputError } from "../model/errors.ts";
import { UndecodableMessage } from "./load.ts";

/**
 * Validates a decoded request against `schema`. Undecodable bytes and schema violations both
 * throw an {@linkcode InputError} naming `where` (the message type), which `toGrpcError` maps to
 * INVALID_ARGUMENT.
 */
export function parseMessage<T extends z.ZodType>(
  schema: T,
  message: unknown,
  where: string,
): z.infer<T> {
  if (message instanceof UndecodableMessage) {
    throw new InputError(where, `Cannot decode protobuf bytes: ${message.reason}`);
  }
  const parsed = schema.safeParse(message);
  if (!parsed.success) throw new InputError(where, z.prettifyError(parsed.error));
  return parsed.data;
}
