/**
 * Numbered schema migrations, one list for both databases. Each runs once, in a
 * transaction, and is recorded in `schema_migrations`; a database that has a migration
 * this code does not know (a newer release ran against it) is refused at start-up.
 * Never edit a migration that has shipped: add the next number.
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'feedback table',
    sqlite: `
      CREATE TABLE feedback (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        payload_sha256 TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        verdict TEXT NOT NULL,
        day TEXT NOT NULL,
        record TEXT NOT NULL,
        photo BLOB
      ) STRICT;
      CREATE INDEX feedback_model ON feedback (model_id, model_version);
    `,
    postgres: `
      CREATE TABLE feedback (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id UUID NOT NULL UNIQUE,
        payload_sha256 TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        verdict TEXT NOT NULL,
        day DATE NOT NULL,
        record JSONB NOT NULL,
        photo BYTEA
      );
      CREATE INDEX feedback_model ON feedback (model_id, model_version);
    `,
  },
  {
    version: 2,
    name: 'served models',
    // Every model version the server has served, with its label lines (a JSON array): a
    // record queued offline for a version that a model update has since replaced is still
    // checked against the labels of that version.
    sqlite: `
      CREATE TABLE served_models (
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        labels TEXT NOT NULL,
        first_served_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (model_id, model_version)
      ) STRICT;
    `,
    postgres: `
      CREATE TABLE served_models (
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        labels JSONB NOT NULL,
        first_served_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, model_version)
      );
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export function pendingMigrations(appliedVersion: number): readonly Migration[] {
  if (appliedVersion > LATEST_VERSION) {
    throw new Error(
      `the database is at schema version ${appliedVersion}, newer than this server knows (${LATEST_VERSION})`,
    );
  }
  return MIGRATIONS.filter((m) => m.version > appliedVersion);
}
