/**
 * Loads `.proto` files with protobufjs and turns their services into @grpc/grpc-js service
 * definitions whose (de)serializers are protobufjs encode/decode.
 *
 * Messages cross the edge as plain objects: enums as their names, 64-bit integers as numbers,
 * bytes as `Uint8Array` views (no copy), absent fields as their zero values. A message that cannot be
 * decoded does not throw inside grpc-js (which would answer INTERNAL); the deserializer returns an
 * {@linkcode UndecodableMessage} that the handler's zod validation turns into INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * const root = loadProtoFiles([protoPath("peer.proto")]);
 * const def = serviceDefinition(root, "denoformer.v1.Peer");
 * server.addService(def, { SendChunks: handler });
 * ```
 */
import type * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { Buffer } from "node:buffer";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Marks a request whose bytes protobufjs could not decode; zod validation refuses it. */
export class UndecodableMessage {
  constructor(readonly reason: string) {}
}

/** The absolute path of a `.proto` file in this folder. */
export function protoPath(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), name);
}

/**
 * Parses `.proto` files (and the files they import, resolved relative to the importing file) into
 * one protobufjs Root. Reads with `Deno.readTextFileSync`, so it needs `--allow-read`.
 */
export function loadProtoFiles(paths: string[]): protobuf.Root {
  const root = new protobuf.Root();
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      throw new Error(`Cannot read proto file "${path}": check the path`, { cause: err });
    }
    const parsed = protobuf.parse(text, root, { keepCase: true });
    for (const imp of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      visit(isAbsolute(imp) ? imp : join(dirname(path), imp));
    }
  };
  for (const p of paths) visit(p);
  root.resolveAll();
  return root;
}

/** Encode and decode one message type between plain objects and protobuf bytes. */
export interface MessageCodec {
  /** The protobufjs type, for reflection. */
  readonly type: protobuf.Type;
  /** Plain object (enum names or numbers, numbers for 64-bit ints) to bytes. */
  encode(message: unknown): Buffer;
  /** Bytes to a plain object; throws on malformed input. */
  decode(bytes: Uint8Array): Record<string, unknown>;
}

const toObjectOptions: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

/** A codec for the message type `fullName` (e.g. `denoformer.v1.AllReduceChunk`). */
export function messageCodec(root: protobuf.Root, fullName: string): MessageCodec {
  const type = root.lookupType(fullName);
  return {
    type,
    encode(message) {
      const bytes = type.encode(type.fromObject(message as Record<string, unknown>)).finish();
      // protobufjs returns a Buffer under node compat; wrap (no copy) when it does not.
      return Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    },
    decode(bytes) {
      return type.toObject(type.decode(bytes), toObjectOptions);
    },
  };
}

/**
 * The grpc-js service definition of `fullName` (e.g. `denoformer.v1.Peer`): one entry per rpc,
 * keyed by the rpc's name as written in the .proto file.
 */
export function serviceDefinition(
  root: protobuf.Root,
  fullName: string,
): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = messageCodec(root, method.resolvedRequestType!.fullName.replace(/^\./, ""));
    const response = messageCodec(root, method.resolvedResponseType!.fullName.replace(/^\./, ""));
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream ?? false,
      responseStream: method.responseStream ?? false,
      requestSerialize: request.encode,
      requestDeserialize: tolerantDecode(request),
      responseSerialize: response.encode,
      responseDeserialize: response.decode,
      originalName: method.name,
    };
  }
  return definition as grpc.ServiceDefinition;
}

function tolerantDecode(codec: MessageCodec) {
  return (bytes: Buffer): unknown => {
    try {
      return codec.decode(bytes);
    } catch (err) {
      return new UndecodableMessage(err instanceof Error ? err.message : String(err));
    }
  };
}
