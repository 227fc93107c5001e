import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  insertOutcome,
  pagedExport,
  parseLabelLines,
  type FeedbackStore,
  type InsertOutcome,
  type NewFeedback,
  type ServedModel,
  type StoredFeedback,
} from './feedback-store';
import { migrateSqlite } from './migrate';

interface Row {
  seq: number;
  record: string;
  has_photo: number;
  photo: Buffer | null;
}

/**
 * SQLite through better-sqlite3, in WAL mode (readers never block the writer). Every
 * batch is one IMMEDIATE transaction, committed with synchronous=FULL before the reply
 * goes out: an acknowledged record survives a killed process and a power cut.
 */
export function openSqliteStore(path: string): FeedbackStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Several processes may share the file (e.g. a server and the export tool).
    db.pragma('busy_timeout = 5000');
    migrateSqlite(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const insert = db.prepare(
    `INSERT INTO feedback (id, payload_sha256, model_id, model_version, verdict, day, record, photo)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const storedHash = db.prepare('SELECT payload_sha256 FROM feedback WHERE id = ?').pluck();
  const insertAll = db.transaction((items: readonly NewFeedback[]): InsertOutcome[] =>
    items.map((item) => {
      const photo = item.photo === null ? null : Buffer.from(item.photo);
      const { changes } = insert.run(
        item.id,
        item.payloadSha256,
        item.modelId,
        item.modelVersion,
        item.verdict,
        item.day,
        item.recordJson,
        photo,
      );
      return insertOutcome(item, changes === 1, () => storedHash.get(item.id));
    }),
  );
  const countAll = db.prepare('SELECT count(*) FROM feedback').pluck();
  const lastSeq = db.prepare('SELECT coalesce(max(seq), 0) FROM feedback').pluck();
  const page = (photos: boolean) =>
    db.prepare(
      `SELECT seq, record, photo IS NOT NULL AS has_photo, ${photos ? 'photo' : 'NULL'} AS photo
       FROM feedback WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    );
  const pages = { true: page(true), false: page(false) };
  const ping = db.prepare('SELECT count(*) FROM schema_migrations').pluck();
  const rememberModel = db.prepare(
    `INSERT INTO served_models (model_id, model_version, labels) VALUES (?, ?, ?)
     ON CONFLICT (model_id, model_version) DO NOTHING`,
  );
  const rememberAll = db.transaction((models: readonly ServedModel[]) => {
    for (const model of models) {
      rememberModel.run(model.id, model.version, JSON.stringify(model.labels));
    }
  });
  const servedLabels = db
    .prepare('SELECT labels FROM served_models WHERE model_id = ? AND model_version = ?')
    .pluck();

  return {
    kind: 'sqlite',
    async insertMany(items) {
      return items.length === 0 ? [] : insertAll.immediate(items);
    },
    async count() {
      return Number(countAll.get());
    },
    async rememberModels(models) {
      if (models.length > 0) rememberAll.immediate(models);
    },
    async servedModelLabels(id, version) {
      const labels = servedLabels.get(id, version);
      return labels === undefined ? null : parseLabelLines(labels);
    },
    exportRecords(options = {}) {
      return pagedExport(options, {
        lastSeq: () => Number(lastSeq.get()),
        page: ({ after, last, limit, photos }) =>
          (pages[`${photos}`].all(after, last, limit) as Row[]).map(toStored),
      });
    },
    async health() {
      ping.get();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function toStored(row: Row): StoredFeedback {
  return {
    seq: row.seq,
    recordJson: row.record,
    hasPhoto: row.has_photo === 1,
    photo: row.photo === null ? null : new Uint8Array(row.photo),
  };
}
