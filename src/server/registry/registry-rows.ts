import { z } from 'zod';
import { modelCardSchema } from '../../core/model-card';
import { modelFileSchema, type ModelFile } from '../../core/model-manifest';
import type { LogAction, LogEntry, RegisteredVersion } from './registry';
import type { ChannelsRow, LogRow, VersionRow } from './registry-db';
import type { StableLogRow } from './stable-history';

/**
 * The registry's rows read back as values. A row is checked like any other input: damage
 * (a hand-edited database, a newer release's rows) is an error, never a version.
 */

const filesSchema = z.array(modelFileSchema).min(1);
const detailsSchema = z.record(z.string(), z.unknown());
const LOG_ACTIONS = ['register', 'rollout', 'promote', 'rollback', 'remove'] as const;
const actionSchema = z.enum(LOG_ACTIONS satisfies readonly LogAction[]);

export function filesOf(row: VersionRow): ModelFile[] {
  return parseStored(filesSchema, row.filesJson, `the files of ${row.modelId}@${row.version}`);
}

export function toRegistered(row: VersionRow): RegisteredVersion {
  return {
    id: row.modelId,
    version: row.version,
    card: parseStored(modelCardSchema, row.cardJson, `the card of ${row.modelId}@${row.version}`),
    files: filesOf(row),
    totalBytes: row.totalBytes,
    registeredAt: row.registeredAt,
    note: row.note,
    cardSha256: row.cardSha256,
  };
}

export function parseLogRow(row: LogRow): StableLogRow {
  return {
    action: row.action,
    details: parseStored(detailsSchema, row.detailsJson, `log row ${row.seq}`),
  };
}

export function toLogEntry(row: LogRow): LogEntry {
  const action = actionSchema.safeParse(row.action);
  if (!action.success) throw new Error(`log row ${row.seq} has an unknown action ${row.action}`);
  return {
    seq: row.seq,
    modelId: row.modelId,
    at: row.at,
    actor: row.actor,
    action: action.data,
    version: row.version,
    note: row.note,
    details: parseLogRow(row).details,
  };
}

/** In code-point order whatever the database's collation, so both databases list alike. */
export function byId(channels: readonly ChannelsRow[]): ChannelsRow[] {
  return [...channels].sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0));
}

function parseStored<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${what} in the registry is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} in the registry: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
