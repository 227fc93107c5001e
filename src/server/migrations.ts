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
  {
    version: 3,
    name: 'model registry',
    // Versions are immutable (their files a JSON array in registration order, the card as
    // the text it was hashed from), held so by a trigger; the channels point at them, so a
    // version in use cannot be deleted, and say when they last changed (the manifest's
    // generatedAt); the log is append-only, and its max(seq) is the revision servers poll.
    sqlite: `
      CREATE TABLE model_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        card TEXT NOT NULL,
        card_sha256 TEXT NOT NULL,
        files TEXT NOT NULL,
        total_bytes INTEGER NOT NULL,
        registered_at TEXT NOT NULL,
        note TEXT,
        UNIQUE (model_id, version)
      ) STRICT;
      CREATE TRIGGER model_versions_no_update BEFORE UPDATE ON model_versions
        BEGIN SELECT RAISE(ABORT, 'model_versions are immutable'); END;
      CREATE TABLE model_channels (
        model_id TEXT PRIMARY KEY,
        stable_version TEXT NOT NULL,
        candidate_version TEXT,
        candidate_percent REAL,
        candidate_salt TEXT,
        candidate_shadow_rate REAL,
        candidate_since TEXT,
        changed_at TEXT NOT NULL,
        FOREIGN KEY (model_id, stable_version) REFERENCES model_versions (model_id, version),
        FOREIGN KEY (model_id, candidate_version) REFERENCES model_versions (model_id, version),
        CHECK ((candidate_version IS NULL) = (candidate_percent IS NULL)
          AND (candidate_version IS NULL) = (candidate_salt IS NULL)
          AND (candidate_version IS NULL) = (candidate_shadow_rate IS NULL)
          AND (candidate_version IS NULL) = (candidate_since IS NULL))
      ) STRICT;
      CREATE TABLE model_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        version TEXT,
        note TEXT,
        details TEXT NOT NULL
      ) STRICT;
      CREATE INDEX model_log_model ON model_log (model_id, seq);
      CREATE TRIGGER model_log_no_update BEFORE UPDATE ON model_log
        BEGIN SELECT RAISE(ABORT, 'model_log is append-only'); END;
      CREATE TRIGGER model_log_no_delete BEFORE DELETE ON model_log
        BEGIN SELECT RAISE(ABORT, 'model_log is append-only'); END;
    `,
    // JSON (not JSONB) for the card and the files: kept as the exact text that was hashed.
    // model_blobs holds the files themselves when MODEL_STORE=database.
    postgres: `
      CREATE TABLE model_versions (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        card JSON NOT NULL,
        card_sha256 TEXT NOT NULL,
        files JSON NOT NULL,
        total_bytes BIGINT NOT NULL,
        registered_at TIMESTAMPTZ NOT NULL,
        note TEXT,
        UNIQUE (model_id, version)
      );
      CREATE FUNCTION model_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'model_versions are immutable'; END
      $$;
      CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
        FOR EACH ROW EXECUTE FUNCTION model_versions_immutable();
      CREATE TABLE model_channels (
        model_id TEXT PRIMARY KEY,
        stable_version TEXT NOT NULL,
        candidate_version TEXT,
        candidate_percent DOUBLE PRECISION,
        candidate_salt TEXT,
        candidate_shadow_rate DOUBLE PRECISION,
        candidate_since TIMESTAMPTZ,
        changed_at TIMESTAMPTZ NOT NULL,
        FOREIGN KEY (model_id, stable_version) REFERENCES model_versions (model_id, version),
        FOREIGN KEY (model_id, candidate_version) REFERENCES model_versions (model_id, version),
        CHECK ((candidate_version IS NULL) = (candidate_percent IS NULL)
          AND (candidate_version IS NULL) = (candidate_salt IS NULL)
          AND (candidate_version IS NULL) = (candidate_shadow_rate IS NULL)
          AND (candidate_version IS NULL) = (candidate_since IS NULL))
      );
      CREATE TABLE model_log (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model_id TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        version TEXT,
        note TEXT,
        details JSONB NOT NULL
      );
      CREATE INDEX model_log_model ON model_log (model_id, seq);
      CREATE FUNCTION model_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'model_log is append-only'; END
      $$;
      CREATE TRIGGER model_log_append_only BEFORE UPDATE OR DELETE ON model_log
        FOR EACH ROW EXECUTE FUNCTION model_log_append_only();
      CREATE TABLE model_blobs (
        sha256 TEXT PRIMARY KEY,
        bytes BIGINT NOT NULL,
        data BYTEA NOT NULL
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
