/**
 * grpc.health.v1.Health: SERVING for the whole server ("") and for the Generation service; other
 * names are NOT_FOUND, as the health protocol asks. Watch sends the status once and stays open.
 */
import * as grpc from "@grpc/grpc-js";

const SERVICES = new Set(["", "denoformer.v1.Generation", "grpc.health.v1.Health"]);

/** The handler map for `grpc.health.v1.Health`. */
export function healthHandlers(): grpc.UntypedServiceImplementation {
  return {
    Check(
      call: grpc.ServerUnaryCall<{ service: string }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) {
      if (!SERVICES.has(call.request.service)) {
        return cb({
          code: grpc.status.NOT_FOUND,
          details: `Unknown service "${call.request.service}"`,
        });
      }
      cb(null, { status: "SERVING" });
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, unknown>) {
      call.write({ status: SERVICES.has(call.request.service) ? "SERVING" : "SERVICE_UNKNOWN" });
    },
  };
}
