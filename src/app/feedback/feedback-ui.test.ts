import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { toPrediction, type Answer } from '../../core/answer';
import { appError } from '../../core/errors';
import { feedbackRecordSchema } from '../../core/feedback';
import { taxonomyFor } from '../../core/taxonomy';
import { loadRealModel } from '../../../test-support/real-models';
import type { SetAsideRecord } from '../../outbox/outbox-db';
import { useFeedbackStore } from './feedback-store';
import type { FeedbackState } from './feedback-store';
import { OutboxStatus, SetAsideList } from './OutboxStatus';
import { speciesListOf } from './species-list';
import { SpeciesPicker } from './SpeciesPicker';
import { VerdictPanel } from './VerdictPanel';

/**
 * What the feedback components put on the page, rendered to markup: the structure that
 * assistive technology reads (live regions, what is offered) is checked without a browser.
 */

const ROBIN = 'Turdus migratorius (American Robin)';
const record = feedbackRecordSchema.parse({
  id: '00000000-0000-4000-8000-000000000001',
  model: { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' },
  predicted: ROBIN,
  verdict: 'correct',
  day: '2026-05-01',
  appVersion: '0.1.0',
});
const setAside = (id: string, stored: SetAsideRecord['record']): SetAsideRecord => ({
  id,
  code: 'VALIDATION_FAILED',
  detail: null,
  setAsideAt: 1,
  record: stored,
});
const initial = { ...useFeedbackStore.getInitialState() };
/** A server render reads a store's initial state: these renders stand for the page's. */
function given(state: Partial<FeedbackState>): void {
  useFeedbackStore.setState(state);
  Object.assign(useFeedbackStore.getInitialState(), state);
}
afterEach(() => {
  Object.assign(useFeedbackStore.getInitialState(), initial);
  useFeedbackStore.setState(initial, true);
});

const render = (element: Parameters<typeof renderToStaticMarkup>[0]) =>
  renderToStaticMarkup(element);
/** The inner markup of the first element with role="status". */
const statusRegion = (html: string) =>
  /<(\w+)[^>]*role="status"[^>]*>(.*?)<\/\1>/s.exec(html)?.[2] ?? null;

describe('OutboxStatus', () => {
  it('keeps its buttons out of the live region', () => {
    given({ waiting: 1, setAside: [setAside('a', record)] });
    const html = render(createElement(OutboxStatus));
    expect(html).toContain('Show why');
    expect(statusRegion(html)).toContain('1 correction waiting to be sent.');
    expect(statusRegion(html)).not.toContain('<button');
  });

  it('lists a verdict that could not be queued, with Retry, wherever its panel is', () => {
    given({
      notQueued: [
        {
          recordId: record.id,
          observationId: 'obs-1',
          record,
          verdict: { kind: 'correct', decidedAt: 1 },
          notices: [],
          error: appError('STORAGE_FULL'),
        },
      ],
    });
    const html = render(createElement(OutboxStatus));
    expect(html).toContain('data-testid="outbox-not-queued-item"');
    expect(html).toContain(appError('STORAGE_FULL').message);
    expect(html).toMatch(/<button[^>]*>Retry<\/button>/);
  });

  it('says that a send failed', () => {
    given({ flushError: appError('OUTBOX_FAILED') });
    const html = render(createElement(OutboxStatus));
    expect(statusRegion(html)).toContain(appError('OUTBOX_FAILED').message);
  });

  it('offers "Send again" only for a record it can still read, and says why not', () => {
    given({ setAside: [setAside('a', record), setAside('b', null)] });
    const html = render(createElement(SetAsideList, { onSentAgain: () => {} }));
    const items = html.split('<li').slice(1);
    expect(items[0]).toContain('Send again');
    expect(items[1]).not.toContain('Send again');
    expect(items[1]).toContain('cannot be sent again');
  });
});

describe('VerdictPanel', () => {
  const answer: Answer = {
    kind: 'animal',
    top: [{ index: 0, label: ROBIN, name: 'American Robin', scientificName: null, probability: 1 }],
  };
  const panel = () =>
    createElement(VerdictPanel, {
      observationId: 'obs-1',
      model: { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' },
      answer,
      verdict: null,
      photo: null,
      onVerdict: () => {},
    });

  it('has its live region in place before there is anything to announce', () => {
    expect(statusRegion(render(panel()))).toBe('');
  });

  it('offers no second verdict while one on the same observation is being queued', () => {
    expect(render(panel())).not.toContain('disabled');
    given({ submitting: ['obs-1'] });
    const buttons = render(panel()).match(/<button[^>]*>/g) ?? [];
    expect(buttons.length).toBeGreaterThan(0);
    for (const button of buttons) expect(button).toContain('disabled');
  });
});

describe('SpeciesPicker', () => {
  const general = loadRealModel('imagenet-mobilenet-v2');
  const list = speciesListOf(
    general.labels,
    general.spec,
    taxonomyFor('imagenet-mobilenet-v2', general.labels, general.spec),
  );
  const labelOf = (line: string) => general.labels.find((l) => l.line === line)!;
  const top = [
    toPrediction(labelOf('tiger cat'), 0.5),
    toPrediction(labelOf('tabby, tabby cat'), 0.3),
    toPrediction(labelOf('Egyptian cat'), 0.1),
  ];
  const html = render(
    createElement(SpeciesPicker, {
      list,
      top,
      canSharePhoto: false,
      onDone: () => {},
      onCancel: () => {},
    }),
  );
  const attribute = (tag: string, name: string) =>
    new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] ?? null;
  const tags = (role: string) => html.match(new RegExp(`<[^>]*role="${role}"[^>]*>`, 'g')) ?? [];

  it("opens on the photo's candidates in the answer's order, the first one active", () => {
    const options = tags('option');
    expect(options.map((tag) => attribute(tag, 'data-label'))).toEqual(top.map((p) => p.label));
    const [combobox] = tags('combobox');
    expect(combobox).toBeDefined();
    expect(attribute(combobox!, 'aria-activedescendant')).toBe(attribute(options[0]!, 'id'));
    expect(attribute(options[0]!, 'class')).toContain('active');
    for (const option of options.slice(1))
      expect(attribute(option, 'class')).not.toContain('active');
    for (const option of options) expect(attribute(option, 'aria-selected')).toBe('false');
  });

  it('shows the names people use, not the first word of the label line', () => {
    // "Egyptian cat" is ImageNet's word for the breed; people call it an Egyptian Mau.
    expect(html).toMatch(/>Egyptian Mau</);
    expect(html).not.toMatch(/>Egyptian cat</);
    expect(html).toMatch(/>tabby cat</);
  });

  it('drives a listbox from the search field, its sections named', () => {
    const [combobox] = tags('combobox');
    const [listbox] = tags('listbox');
    expect(attribute(combobox!, 'aria-controls')).toBe(attribute(listbox!, 'id'));
    const [section] = tags('group').filter((tag) => attribute(tag, 'data-section') !== null);
    const labelId = attribute(section!, 'aria-labelledby');
    expect(html).toMatch(new RegExp(`id="${labelId}"[^>]*>Candidates for this photo<`));
  });

  it('offers the groups of the answer as filters, narrowest first, none pressed', () => {
    const groups = (html.match(/<button[^>]*data-testid="picker-group"[^>]*>/g) ?? []).map(
      (tag) => [attribute(tag, 'data-group'), attribute(tag, 'aria-pressed')],
    );
    expect(groups).toEqual([
      ['cat', 'false'],
      ['cat family', 'false'],
      ['mammal', 'false'],
    ]);
  });
});
