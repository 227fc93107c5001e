import { z } from 'zod';

/**
 * Which version a rollback returns stable to, read from the log: the versions that were
 * made stable (the first registration, a promote) form a stack, and a rollback that
 * returned stable pops it. So two rollbacks in a row go back two promotions, and a version
 * promoted again after a rollback is on the stack again, as it was live again.
 */

/** The `stable` figure of a log row that moved the stable channel. */
const stableMoveSchema = z.object({ from: z.string().nullable(), to: z.string() });

export interface StableLogRow {
  action: string;
  /** The parsed details of the row. */
  details: Record<string, unknown>;
}

/**
 * The stable versions still "under" the current one, newest last, the current one on top.
 * The action says what a row did to stable: a registration (the id's first) or a promote
 * pushed a version, a rollback that returned stable popped; its `stable` figure only says
 * to which version, and the rows of other actions never count, whatever they hold.
 */
function stableStack(rows: readonly StableLogRow[]): string[] {
  const stack: string[] = [];
  for (const row of rows) {
    const pushes = row.action === 'register' || row.action === 'promote';
    if (!pushes && row.action !== 'rollback') continue;
    // Absent from a registration that did not make stable, and from a withdrawn candidate.
    const move = stableMoveSchema.safeParse(row.details.stable);
    if (!move.success) continue;
    if (pushes) {
      stack.push(move.data.to);
      continue;
    }
    // Popped down to the version it returned to (earlier ones that were removed since
    // were skipped by that rollback, so they go too).
    stack.pop();
    while (stack.length > 0 && stack.at(-1) !== move.data.to) stack.pop();
    if (stack.length === 0) stack.push(move.data.to);
  }
  return stack;
}

export type PreviousStable = { version: string } | { version: null; why: string };

/**
 * The version a rollback returns stable to: the one below the current one that still
 * exists (a removed version cannot be served); or, when there is none, why not.
 */
export function previousStable(
  rows: readonly StableLogRow[],
  current: string,
  exists: (version: string) => boolean,
): PreviousStable {
  const stack = stableStack(rows);
  if (stack.at(-1) !== current) {
    return {
      version: null,
      why: `its log does not end on its stable version ${current}, so the one before is not known`,
    };
  }
  const below = stack.slice(0, -1).filter((version) => version !== current);
  if (below.length === 0) return { version: null, why: `${current} is its first stable version` };
  const version = below.findLast(exists);
  return version === undefined
    ? { version: null, why: `the stable versions before ${current} were all removed` }
    : { version };
}
