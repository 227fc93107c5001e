import { describe, expect, it } from 'vitest';
import { parseModelArgs, type ModelArgs } from './model-args';

const ME = 'os-user';
/** Where the user typed the command (npm's INIT_CWD), not the package folder npm runs in. */
const CWD = '/home/ana/releases';

function parsed(...argv: string[]): ModelArgs {
  const result = parseModelArgs(argv, ME, CWD);
  if (!result.ok) throw new Error(result.reason);
  return result.args;
}

function refused(...argv: string[]): string {
  const result = parseModelArgs(argv, ME, CWD);
  if (result.ok) throw new Error(`accepted ${argv.join(' ')}`);
  return result.reason;
}

describe('npm run model arguments', () => {
  it('reads each verb with its defaults', () => {
    expect(parsed('list')).toEqual({ verb: 'list', json: false });
    expect(parsed('list', '--json')).toEqual({ verb: 'list', json: true });
    expect(parsed('show', 'birds')).toEqual({
      verb: 'show',
      id: 'birds',
      version: null,
      json: false,
    });
    expect(parsed('show', 'birds@0a1b2c3d4e', '--json')).toEqual({
      verb: 'show',
      id: 'birds',
      version: '0a1b2c3d4e',
      json: true,
    });
    expect(parsed('rollout', 'birds@0a1b2c3d4e', '--percent', '12.345')).toEqual({
      verb: 'rollout',
      id: 'birds',
      version: '0a1b2c3d4e',
      percent: 12.345,
      shadowRate: undefined,
      actor: ME,
      note: null,
    });
    expect(parsed('promote', 'birds@v2', '--note', 'fewer gulls confused')).toEqual({
      verb: 'promote',
      id: 'birds',
      version: 'v2',
      actor: ME,
      note: 'fewer gulls confused',
    });
    expect(parsed('rollback', 'birds')).toEqual({
      verb: 'rollback',
      id: 'birds',
      actor: ME,
      note: null,
    });
    expect(parsed('history', 'birds', '--json')).toEqual({
      verb: 'history',
      id: 'birds',
      json: true,
    });
    expect(parsed('remove', 'birds@v1')).toEqual({
      verb: 'remove',
      id: 'birds',
      version: 'v1',
      actor: ME,
      note: null,
    });
  });

  it('takes the percentage and the shadow rate at their bounds', () => {
    for (const percent of ['0', '100', '0.001', '99.999']) {
      expect(parsed('rollout', 'a@b', '--percent', percent)).toMatchObject({
        percent: Number(percent),
      });
    }
    for (const rate of ['0', '1', '0.25']) {
      expect(parsed('rollout', 'a@b', '--percent', '5', '--shadow', rate)).toMatchObject({
        shadowRate: Number(rate),
      });
    }
  });

  it('names the actor with --by, else the operating-system user', () => {
    expect(parsed('promote', 'a@b', '--by', 'ana')).toMatchObject({ actor: 'ana' });
    expect(parsed('add', 'models/birds')).toMatchObject({ actor: ME });
    expect(refused('rollback', 'a', '--by', ' ')).toMatch(/--by needs a name/);
  });

  it("takes an added folder's id from its name unless --id gives one", () => {
    expect(parsed('add', 'some/where/inat-birds-v3')).toEqual({
      verb: 'add',
      dir: '/home/ana/releases/some/where/inat-birds-v3',
      id: 'inat-birds-v3',
      actor: ME,
      note: null,
    });
    expect(parsed('add', 'some/where/Birds V3', '--id', 'birds')).toMatchObject({ id: 'birds' });
    expect(parsed('add', './birds', '--id', 'birds')).toMatchObject({
      dir: '/home/ana/releases/birds',
    });
    expect(parsed('add', '../models/birds')).toMatchObject({ dir: '/home/ana/models/birds' });
    expect(parsed('add', '/srv/models/birds')).toMatchObject({ dir: '/srv/models/birds' });
    expect(refused('add', 'some/where/Birds V3')).toMatch(/folder name "Birds V3".*--id/);
    expect(refused('add', 'x', '--id', 'Birds')).toMatch(/--id "Birds" is not a model id/);
  });

  it('asks for help without touching anything', () => {
    expect(parsed('help')).toEqual({ verb: 'help' });
    expect(parsed('--help')).toEqual({ verb: 'help' });
    expect(parsed('rollout', '-h')).toEqual({ verb: 'help' });
    expect(parsed('rollback', 'birds', '--help')).toEqual({ verb: 'help' });
  });

  it('reads a value that looks like a flag as that value, never as a request for help', () => {
    expect(parsed('rollback', 'birds', '--note=-h')).toMatchObject({
      verb: 'rollback',
      note: '-h',
    });
    expect(refused('rollback', 'birds', '--note', '-h')).toMatch(/ambiguous/);
    expect(refused('promote', 'birds@v2', '--', '-h')).toMatch(/promote takes ID@VERSION/);
  });

  it.each([
    [[], /no verb/],
    [['deploy'], /unknown verb "deploy"/],
    [['list', '--verbose'], /Unknown option '--verbose'/],
    [['rollout', 'a@b', '--percent', '5', '--json'], /Unknown option '--json'/],
    [['add', 'dir', '--percent', '5'], /Unknown option '--percent'/],
    [['list', 'extra'], /list takes no argument/],
    [['show'], /show takes ID\[@VERSION\], got none/],
    [['promote', 'a@b', 'c@d'], /promote takes ID@VERSION, got a@b c@d/],
    [['rollout', 'a@b'], /rollout needs --percent/],
    [['rollout', 'a@b', '--percent'], /argument missing/],
    [['rollout', 'a@b', '--percent', '100.001'], /--percent 100.001/],
    [['rollout', 'a@b', '--percent', '-1'], /ambiguous|--percent -1/],
    [['rollout', 'a@b', '--percent=-1'], /--percent -1/],
    [['rollout', 'a@b', '--percent', '0.0001'], /steps of 0.001/],
    [['rollout', 'a@b', '--percent', '1e1'], /--percent 1e1/],
    [['rollout', 'a@b', '--percent', '0x10'], /--percent 0x10/],
    [['rollout', 'a@b', '--percent', ''], /--percent /],
    [['rollout', 'a@b', '--percent', '5', '--shadow', '1.5'], /--shadow 1.5: give 0 to 1/],
    [['rollout', 'a@b', '--percent', '5', '--shadow=-0.1'], /--shadow -0.1/],
    [['rollout', 'a', '--percent', '5'], /"a" is not ID@VERSION/],
    [['promote', 'birds'], /"birds" is not ID@VERSION/],
    [['remove', 'birds@'], /"birds@" is not ID@VERSION/],
    [['promote', 'birds@v1@v2'], /"v1@v2" is not a version/],
    [['promote', 'Birds@v1'], /model "Birds" is not a model id/],
    [['show', '@v1'], /model "" is not a model id/],
    [['history', 'a/b'], /not a model id/],
  ])('refuses %j', (argv, reason) => {
    expect(refused(...argv)).toMatch(reason);
  });
});
