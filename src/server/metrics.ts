import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FeedbackResult } from '../core/feedback';

/** Prometheus metrics, one registry per app (tests build several apps in one process). */
export interface AppMetrics {
  registry: Registry;
  /** Counts routes, status codes and latency of every response. */
  install(app: FastifyInstance): void;
  recordFeedback(result: FeedbackResult): void;
  /** A feedback request refused as a whole (400, 401, 413, 415, 429), by error code. */
  refuseRequest(code: string): void;
}

export function createMetrics(countStored: () => Promise<number>): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fieldid_' });

  const requests = new Counter({
    name: 'fieldid_http_requests_total',
    help: 'HTTP requests by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fieldid_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response, by route pattern',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const records = new Counter({
    name: 'fieldid_feedback_records_total',
    help: 'Feedback records received, by outcome (accepted, duplicate, rejected)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'fieldid_feedback_rejections_total',
    help: 'Feedback records rejected, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'fieldid_feedback_requests_refused_total',
    help: 'Feedback API requests refused as a whole, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'fieldid_feedback_records_stored',
    help: 'Feedback records in the database (all servers together)',
    registers: [registry],
    async collect() {
      this.set(await countStored());
    },
  });

  return {
    registry,
    recordFeedback(result) {
      records.inc({ status: result.status });
      if (result.status === 'rejected') rejections.inc({ code: result.code ?? 'UNKNOWN' });
    },
    install(app) {
      app.addHook('onResponse', async (request, reply) => {
        // The route pattern, never the raw URL: one series per route, whatever clients send.
        const route = request.routeOptions.url ?? 'unmatched';
        requests.inc({ route, method: request.method, status: String(reply.statusCode) });
        latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
      });
    },
    refuseRequest(code) {
      refused.inc({ code });
    },
  };
}
