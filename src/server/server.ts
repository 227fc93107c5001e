import { buildApp } from './app';
import { loadConfig } from './config';
import type { FeedbackStore } from './feedback-store';
import { openFeedbackStore } from './open-store';
import { bootstrapWarnings, registerModelsDir, type Bootstrap } from './registry/bootstrap';
import { openLiveModels, type LiveModels } from './registry/live-models';
import { openModelRegistry, registryOptions } from './registry/open-registry';
import type { ModelRegistryService } from './registry/registry';

/** In-flight requests (model downloads, feedback writes) get this long after SIGINT/SIGTERM. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
const IDLE_SWEEP_MS = 200;

const parsed = loadConfig();
if (!parsed.ok) {
  console.error(`Invalid environment:\n${parsed.reason}`);
  process.exit(1);
}
const { config } = parsed;
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
// Never DATABASE_URL itself: it may hold a password.
const databaseName =
  config.feedback.store.kind === 'sqlite'
    ? `SQLITE_PATH=${config.feedback.store.path}`
    : 'DATABASE_URL';

let store: FeedbackStore;
try {
  store = await openFeedbackStore(config.feedback.store);
} catch (error) {
  console.error(`Cannot open the feedback database (${databaseName}): ${reasonOf(error)}`);
  process.exit(1);
}

let registry: ModelRegistryService;
try {
  registry = await openModelRegistry(registryOptions(config));
} catch (error) {
  console.error(`Cannot open the model registry (${databaseName}): ${reasonOf(error)}`);
  process.exit(1);
}

// MODELS_DIR's folders become (or are found to be) registered versions. Without them the
// server still serves what the registry holds; with nothing in either, there is nothing to serve.
let bootstrap: Bootstrap = { registered: [], refused: [] };
let bootstrapProblem: string | null = null;
try {
  const outcome = await registerModelsDir(registry, config.modelsDir);
  if (outcome.ok) bootstrap = outcome.value;
  else bootstrapProblem = outcome.error.detail ?? outcome.error.message;
} catch (error) {
  bootstrapProblem = reasonOf(error);
}

let models: LiveModels;
try {
  models = await openLiveModels(registry, config.registry);
} catch (error) {
  // An empty registry gives no valid manifest: then MODELS_DIR's problem is the one to fix.
  const modelsProblem =
    bootstrapProblem ??
    bootstrap.refused.map(({ error }) => error.detail ?? error.message).join('; ');
  console.error(
    modelsProblem === ''
      ? `Cannot read the model registry (${databaseName}): ${reasonOf(error)}`
      : `Cannot load the models (MODELS_DIR=${config.modelsDir}): ${modelsProblem}`,
  );
  process.exit(1);
}

const app = buildApp(config, { models, store });
if (bootstrapProblem !== null) {
  app.log.warn(
    `MODELS_DIR=${config.modelsDir} was not registered (${bootstrapProblem}); serving the registry's models`,
  );
}
for (const warning of bootstrapWarnings(bootstrap)) app.log.warn(warning);

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  app.log.fatal({ err: error }, 'cannot listen');
  process.exit(1);
}

const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
const files = config.registry.files.kind === 'folder' ? config.registry.files.dir : 'the database';
app.log.info(
  `Serving http://${host}:${port}/ (${Object.keys(models.manifest().models).length} models from the registry in ${store.kind}, files in ${files}; feedback in ${store.kind})`,
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
  models.close();
  app
    .close()
    .then(() => Promise.all([store.close(), registry.close()]))
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
