import type { FeedbackConfig } from './config';
import type { FeedbackStore } from './feedback-store';

/** Opens the configured store; its own module so that the stores and their shared helpers form no cycle. */
export async function openFeedbackStore(config: FeedbackConfig['store']): Promise<FeedbackStore> {
  // Imported on demand: a SQLite deployment never loads `pg`, and the reverse.
  if (config.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres-store');
    return openPostgresStore(config);
  }
  const { openSqliteStore } = await import('./sqlite-store');
  return openSqliteStore(config.path);
}
