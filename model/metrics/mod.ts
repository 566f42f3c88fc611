/**
 * `model/metrics/`: Prometheus metrics for every process of the system (inference server,
 * coordinator, training workers). The registry and metric types are prom-client's, which runs
 * under Deno; this module adds the one way each process creates a registry (with prom-client's
 * default `process_*` and `nodejs_*` series) and serves it as the text exposition format at
 * `GET /metrics`. The series each process exports are listed in docs/metrics.md.
 *
 * @example
 * ```ts
 * const registry = metricsRegistry();
 * const steps = new Counter({ name: "steps_total", help: "Steps", registers: [registry] });
 * const server = serveMetrics(registry, { host: "127.0.0.1", port: 9100 });
 * ```
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { serveHttp } from "../web/mod.ts";

export { Counter, Gauge, Histogram, Registry };

/** A registry holding prom-client's default process series (CPU, memory, file descriptors…). */
export function metricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The `/metrics` response: the registry in the text exposition format. */
export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType },
  });
}

/** A running metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `registry` at `GET /metrics` on `host:port` (0 picks a free port); everything else is
 * 404. For processes that have no HTTP server of their own (the coordinator). A port in use is an
 * InputError naming `flag`.
 */
export function serveMetrics(
  registry: Registry,
  listen: { host: string; port: number; flag?: string },
): MetricsServer {
  const server = serveHttp(
    { host: listen.host, port: listen.port, flag: listen.flag ?? "--metrics-port" },
    (req) =>
      new URL(req.url).pathname === "/metrics" && req.method === "GET"
        ? metricsResponse(registry)
        : new Response("Not found: the metrics are at GET /metrics\n", { status: 404 }),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}
