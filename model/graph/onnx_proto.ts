/**
 * Encoding and decoding of ONNX `ModelProto` with protobufjs, from the schema subset in
 * `proto/onnx.proto`.
 */
import protobuf from "protobufjs";

const schemaUrl = new URL("../../proto/onnx.proto", import.meta.url);
const root = protobuf.parse(Deno.readTextFileSync(schemaUrl), { keepCase: true }).root;
const ModelProto = root.lookupType("onnx.ModelProto");

/** Plain-object form of an ONNX message, with snake_case field names as in onnx.proto. */
export type OnnxMessage = Record<string, unknown>;

/** Serialises a `ModelProto` given as a plain object. */
export function encodeModel(model: OnnxMessage): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new TypeError(`Invalid ONNX ModelProto: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Parses `ModelProto` bytes into a plain object (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): OnnxMessage {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false });
}
