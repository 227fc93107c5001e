import type { FeedbackConfig, ModelStoreConfig, ServerConfig } from '../config';
import type { FileStore } from './file-store';
import { openFolderFileStore } from './folder-file-store';
import type { ModelRegistryService } from './registry';
import type { RegistryDb } from './registry-db';
import { createRegistryService } from './registry-service';

export interface RegistryOptions {
  /** The server's database, as the feedback store opens it (`config.feedback.store`). */
  database: FeedbackConfig['store'];
  /** Where file contents go (`config.registry.files`); `database` needs PostgreSQL. */
  files: ModelStoreConfig;
  /** Milliseconds; what versions and log rows are dated with. */
  now?: () => number;
}

/** The options a server started with this configuration uses: `registryOptions(loadConfig().config)`. */
export function registryOptions(
  config: Pick<ServerConfig, 'feedback' | 'registry'>,
  now?: () => number,
): RegistryOptions {
  return {
    database: config.feedback.store,
    files: config.registry.files,
    ...(now === undefined ? {} : { now }),
  };
}

/**
 * Opens the registry on its own connection (and applies pending migrations): the server,
 * `npm run model` and the tests all come through here. Close it when done.
 */
export async function openModelRegistry(options: RegistryOptions): Promise<ModelRegistryService> {
  const { database, files } = options;
  // Imported on demand: a SQLite deployment never loads `pg`, and the reverse.
  let db: RegistryDb;
  let store: FileStore;
  if (database.kind === 'postgres') {
    const { openPostgresRegistryDb } = await import('./postgres-registry-db');
    const pgDb = await openPostgresRegistryDb(database);
    db = pgDb;
    store = files.kind === 'database' ? pgDb.blobs : openFolderFileStore(files.dir);
  } else {
    if (files.kind === 'database') {
      throw new Error('the model files can be kept in the database only on PostgreSQL');
    }
    const { openSqliteRegistryDb } = await import('./sqlite-registry-db');
    db = openSqliteRegistryDb(database.path);
    store = openFolderFileStore(files.dir);
  }
  return createRegistryService({ db, files: store, now: options.now ?? Date.now });
}
