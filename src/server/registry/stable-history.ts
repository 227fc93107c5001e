import { z } from 'zod';

/**
 * Which version a rollback returns stable to, read from the log: the versions that were
 * made stable (the first registration, a promote) form a stack, and a rollback that
 * returned stable pops it. So two rollbacks in a row go back two promotions, and a version
 * promoted again after a rollback is on the stack again, as it was live again.
 */

/** The `stable` figure of a log row that moved the stable channel. */
export const stableMoveSchema = z.object({ from: z.string().nullable(), to: z.string() });

export type StableMove = z.infer<typeof stableMoveSchema>;

export interface StableLogRow {
  action: string;
  /** The parsed details of the row. */
  details: Record<string, unknown>;
}

/** The stable versions still "under" the current one, newest last, the current one on top. */
export function stableStack(rows: readonly StableLogRow[]): string[] {
  const stack: string[] = [];
  for (const row of rows) {
    const move = stableMoveSchema.safeParse(row.details.stable);
    if (!move.success) continue;
    if (row.action === 'rollback') {
      // Popped down to the version it returned to (earlier ones that were removed since
      // were skipped by that rollback, so they go too).
      stack.pop();
      while (stack.length > 0 && stack.at(-1) !== move.data.to) stack.pop();
      if (stack.length === 0) stack.push(move.data.to);
    } else {
      stack.push(move.data.to);
    }
  }
  return stack;
}

/**
 * The version a rollback returns stable to: the one below the current one that still
 * exists (a removed version cannot be served), or null when there is none.
 */
export function previousStable(
  rows: readonly StableLogRow[],
  current: string,
  exists: (version: string) => boolean,
): string | null {
  const stack = stableStack(rows);
  if (stack.at(-1) !== current) return null;
  for (let i = stack.length - 2; i >= 0; i--) {
    const version = stack[i];
    if (version !== undefined && version !== current && exists(version)) return version;
  }
  return null;
}
