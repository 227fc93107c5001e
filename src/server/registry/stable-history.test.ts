import { describe, expect, it } from 'vitest';
import { previousStable, stableStack, type StableLogRow } from './stable-history';

const made = (to: string, from: string | null = null): StableLogRow => ({
  action: from === null ? 'register' : 'promote',
  details: { stable: { from, to } },
});
const back = (from: string, to: string): StableLogRow => ({
  action: 'rollback',
  details: { stable: { from, to } },
});
const other = (action: string): StableLogRow => ({ action, details: { percent: 5 } });
const all = () => true;

describe('the stable history', () => {
  it('stacks the versions made stable, and pops one per rollback', () => {
    const rows = [made('v1'), other('rollout'), made('v2', 'v1'), made('v3', 'v2')];
    expect(stableStack(rows)).toEqual(['v1', 'v2', 'v3']);
    expect(previousStable(rows, 'v3', all)).toBe('v2');
    const once = [...rows, back('v3', 'v2')];
    expect(stableStack(once)).toEqual(['v1', 'v2']);
    expect(previousStable(once, 'v2', all)).toBe('v1');
    expect(previousStable([...once, back('v2', 'v1')], 'v1', all)).toBeNull();
  });

  it('counts a version promoted again as live again', () => {
    const rows = [made('v1'), made('v2', 'v1'), made('v1', 'v2')];
    expect(previousStable(rows, 'v1', all)).toBe('v2');
  });

  it('skips removed versions, and a rollback past them drops them too', () => {
    const rows = [made('v1'), made('v2', 'v1'), made('v3', 'v2'), made('v4', 'v3')];
    const exists = (v: string) => v !== 'v3';
    expect(previousStable(rows, 'v4', exists)).toBe('v2');
    const after = [...rows, back('v4', 'v2')];
    expect(stableStack(after)).toEqual(['v1', 'v2']);
    expect(previousStable(after, 'v2', exists)).toBe('v1');
  });

  it('answers null when the log does not end on the current version (a damaged log)', () => {
    expect(previousStable([made('v1'), made('v2', 'v1')], 'v1', all)).toBeNull();
    expect(previousStable([], 'v1', all)).toBeNull();
  });
});
