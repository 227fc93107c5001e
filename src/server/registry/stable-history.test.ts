import { describe, expect, it } from 'vitest';
import { previousStable, type StableLogRow } from './stable-history';

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
const to = (version: string) => ({ version });

describe('the stable history', () => {
  it('stacks the versions made stable, and pops one per rollback', () => {
    const rows = [made('v1'), other('rollout'), made('v2', 'v1'), made('v3', 'v2')];
    expect(previousStable(rows, 'v3', all)).toEqual(to('v2'));
    const once = [...rows, back('v3', 'v2')];
    expect(previousStable(once, 'v2', all)).toEqual(to('v1'));
    expect(previousStable([...once, back('v2', 'v1')], 'v1', all)).toEqual({
      version: null,
      why: 'v1 is its first stable version',
    });
  });

  it('counts a version promoted again as live again', () => {
    const rows = [made('v1'), made('v2', 'v1'), made('v1', 'v2')];
    expect(previousStable(rows, 'v1', all)).toEqual(to('v2'));
  });

  it('skips removed versions, and a rollback past them drops them too', () => {
    const rows = [made('v1'), made('v2', 'v1'), made('v3', 'v2'), made('v4', 'v3')];
    const exists = (v: string) => v !== 'v3';
    expect(previousStable(rows, 'v4', exists)).toEqual(to('v2'));
    const after = [...rows, back('v4', 'v2')];
    expect(previousStable(after, 'v2', exists)).toEqual(to('v1'));
    expect(previousStable([...after, back('v2', 'v1')], 'v1', exists)).toMatchObject({
      version: null,
      why: expect.stringContaining('first'),
    });
  });

  it('says when every earlier stable version was removed', () => {
    const rows = [made('v1'), made('v2', 'v1'), made('v3', 'v2')];
    expect(previousStable(rows, 'v3', (v) => v === 'v3')).toEqual({
      version: null,
      why: 'the stable versions before v3 were all removed',
    });
  });

  it('goes by the action: a stable figure in any other row moves nothing', () => {
    const stray = (action: string): StableLogRow => ({
      action,
      details: { stable: { from: 'v1', to: 'v9' } },
    });
    const rows = [made('v1'), stray('rollout'), stray('remove'), made('v2', 'v1')];
    expect(previousStable(rows, 'v2', all)).toEqual(to('v1'));
    // A withdrawn candidate is a rollback without a stable figure: no pop.
    const withdrawn: StableLogRow = {
      action: 'rollback',
      details: { withdrew: { version: 'v3' } },
    };
    expect(previousStable([...rows, withdrawn], 'v2', all)).toEqual(to('v1'));
    // A registration that did not make stable pushes nothing.
    const registered: StableLogRow = { action: 'register', details: { files: 3 } };
    expect(previousStable([...rows, registered], 'v2', all)).toEqual(to('v1'));
  });

  it('says the log is damaged when it does not end on the current version, not "its first"', () => {
    const why = expect.stringContaining('does not end on its stable version v1');
    expect(previousStable([made('v1'), made('v2', 'v1')], 'v1', all)).toEqual({
      version: null,
      why,
    });
    expect(previousStable([], 'v1', all)).toEqual({ version: null, why });
  });
});
