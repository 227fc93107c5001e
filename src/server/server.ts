import { buildApp } from './app';
import { loadConfig } from './config';
import type { FeedbackStore } from './feedback-store';
import { openFeedbackStore } from './open-store';
import { loadModelRegistry, type ModelRegistry } from '../node/model-registry';

/** In-flight requests (model downloads, feedback writes) get this long after SIGINT/SIGTERM. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
const IDLE_SWEEP_MS = 200;

const parsed = loadConfig();
if (!parsed.ok) {
  console.error(`Invalid environment:\n${parsed.reason}`);
  process.exit(1);
}
const { config } = parsed;

let registry: ModelRegistry;
try {
  registry = await loadModelRegistry(config.modelsDir);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`Cannot load the models (MODELS_DIR=${config.modelsDir}): ${reason}`);
  process.exit(1);
}

let store: FeedbackStore;
try {
  store = await openFeedbackStore(config.feedback.store);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  const where =
    config.feedback.store.kind === 'sqlite'
      ? `SQLITE_PATH=${config.feedback.store.path}`
      : 'DATABASE_URL'; // never printed: it may hold a password
  console.error(`Cannot open the feedback database (${where}): ${reason}`);
  process.exit(1);
}

const app = buildApp(config, { registry, store });

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  app.log.fatal({ err: error }, 'cannot listen');
  process.exit(1);
}

const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
app.log.info(
  `Serving http://${host}:${port}/ (${registry.manifest.models.length} models from ${config.modelsDir}, feedback in ${store.kind})`,
);
if (!isLoopback(config.host) && config.metricsToken === null) {
  app.log.warn(
    `HOST=${config.host} and no METRICS_TOKEN: GET /metrics answers anyone who can reach this server`,
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

let closing = false;
function shutdown(signal: NodeJS.Signals): void {
  if (closing) process.exit(1); // a second signal: stop waiting
  closing = true;
  app.log.info({ signal }, 'shutting down after in-flight requests');
  setTimeout(() => {
    app.log.error('in-flight requests did not finish in time');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  // close() drops only the keep-alive connections idle at that moment; one whose download
  // ends later would otherwise hold the process until its keep-alive timeout.
  setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
  // The database closes only after the last in-flight request has written its records.
  app
    .close()
    .then(() => store.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
