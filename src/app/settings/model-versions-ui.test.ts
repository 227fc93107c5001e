import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ChannelChoice } from '../../core/model-channels';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import type { ModelRef } from '../../core/model-ref';
import type { ReactElement } from 'react';
import { ModelVersions, TRY_CANDIDATES_LABEL, TryCandidatesChoice } from './ModelVersions';

/**
 * The "Model versions" part of Settings, rendered to markup (the unit tests run without a
 * DOM): what each model's row says, and what assistive technology reads for the checkbox.
 * Ticking it is the inference service's `applyCandidatePreference`, tested there.
 */

const general = { ...fakeModelEntry('imagenet-mobilenet-v2', 'g1'), name: 'General (ImageNet)' };
const birds = { ...fakeModelEntry('inat-birds-mobilenet-v2', 'b2'), name: 'Birds (iNaturalist)' };
const manifest = fakeManifest(general, birds);
const choices: ChannelChoice[] = [
  { id: general.id, channel: 'stable', version: 'g1', otherVersion: null },
  { id: birds.id, channel: 'candidate', version: 'b2', otherVersion: 'b1' },
];

function markup(
  props: Partial<{
    choices: ChannelChoice[];
    loaded: ModelRef[];
    tryCandidates: boolean;
    disabled: boolean;
    manifest: typeof manifest | null;
  }> = {},
) {
  return renderToStaticMarkup(
    createElement(ModelVersions, {
      manifest,
      choices,
      loaded: [general, birds],
      tryCandidates: true,
      disabled: false,
      onTryCandidates: () => {},
      ...props,
    }),
  );
}

const text = (html: string) => html.replace(/<[^>]+>/g, '');

function rows(html: string) {
  return [...html.matchAll(/<li([^>]*)>(.*?)<\/li>/g)].map(([, attributes, inner]) => ({
    model: /data-model="([^"]+)"/.exec(attributes!)?.[1],
    channel: /data-channel="([^"]+)"/.exec(attributes!)?.[1],
    version: /data-version="([^"]+)"/.exec(attributes!)?.[1],
    text: text(inner!),
  }));
}

describe('ModelVersions', () => {
  it('is a group named "Model versions"', () => {
    expect(markup()).toMatch(/^<fieldset[^>]*><legend>Model versions<\/legend>/);
  });

  it('shows per model the version in use and whether it is stable or being tried', () => {
    expect(rows(markup())).toEqual([
      {
        model: general.id,
        channel: 'stable',
        version: 'g1',
        text: 'General (ImageNet) version g1 Stable version',
      },
      {
        model: birds.id,
        channel: 'candidate',
        version: 'b2',
        text: 'Birds (iNaturalist) version b2 Trying a new version (candidate)',
      },
    ]);
  });

  it('shows the stored versions that run offline rather than the ones listed, specialists too', () => {
    const [row, specialist] = rows(
      markup({
        loaded: [
          { id: general.id, version: 'g0' },
          { id: birds.id, version: 'b1' },
        ],
      }),
    );
    expect(row).toMatchObject({ version: 'g0' });
    expect(row!.text).toBe('General (ImageNet) version g0 In use until version g1 can be loaded');
    expect(specialist).toMatchObject({ version: 'b1' });
    expect(specialist!.text).toBe(
      'Birds (iNaturalist) version b1 In use until version b2 can be loaded',
    );
    const rebuilt = rows(markup({ choices: [] }));
    expect(rebuilt.map((r) => r.channel)).toEqual(['unknown', 'unknown']);
    expect(rebuilt[0]!.text).toContain('Stored on this device');
  });

  it('offers one checkbox, ticked by default, labelled and described by what it does', () => {
    const html = markup();
    const inputs = [...html.matchAll(/<input[^>]*>/g)].map(([tag]) => tag);
    expect(inputs).toHaveLength(1);
    const input = inputs[0]!;
    expect(input).toContain('type="checkbox"');
    expect(input).toContain('checked=""');
    expect(input).not.toContain('disabled');
    // The label wraps the checkbox: its text is the accessible name.
    expect(html).toMatch(
      new RegExp(`<label class="choice"><input[^>]*/><span>${TRY_CANDIDATES_LABEL}</span></label>`),
    );
    const describedBy = /aria-describedby="([^"]+)"/.exec(input)?.[1];
    const hint = new RegExp(`<p id="${describedBy}"[^>]*>([^<]*)</p>`).exec(html)?.[1];
    expect(hint).toBe(
      'A new model version first goes to a share of devices, and to everyone once it has done well there. Unticked, this device always uses the stable version.',
    );
  });

  it('shows the opt-out unticked, and cannot change during a batch, saying why', () => {
    expect(markup({ tryCandidates: false })).not.toContain('checked=""');
    const html = markup({ disabled: true });
    const input = /<input[^>]*>/.exec(html)![0];
    // Still focusable, so that the reason in its description is heard.
    expect(input).toContain('aria-disabled="true"');
    expect(input).not.toMatch(/\sdisabled=/);
    const describedBy = /aria-describedby="([^"]+)"/.exec(input)?.[1];
    const hint = new RegExp(`<p id="${describedBy}"[^>]*>([^<]*)</p>`).exec(html)?.[1];
    expect(hint).toContain('The model cannot change while a batch is running.');
  });

  it('refuses a change during a batch, and takes one otherwise', () => {
    for (const disabled of [true, false]) {
      const changes: boolean[] = [];
      const label = TryCandidatesChoice({
        checked: true,
        disabled,
        hintId: 'hint',
        onTryCandidates: (on) => changes.push(on),
      }) as ReactElement<{ children: ReactElement<{ onChange(event: unknown): void }>[] }>;
      label.props.children[0]!.props.onChange({ target: { checked: false } });
      expect(changes, String(disabled)).toEqual(disabled ? [] : [false]);
    }
  });

  it('says in a polite status line which models are being tried, so a change is announced', () => {
    const status = (html: string) =>
      /<p role="status"[^>]*>([^<]*)<\/p>/.exec(html)?.[1] ?? 'no status line';
    expect(status(markup())).toBe('Trying a new version of Birds (iNaturalist).');
    const allStable = choices.map((c) => ({ ...c, channel: 'stable' as const }));
    expect(status(markup({ choices: allStable }))).toBe(
      'Using the stable versions: a new version is going to a share of devices, not yet this one.',
    );
    expect(status(markup({ choices: allStable, tryCandidates: false }))).toBe(
      'Using the stable version of every model.',
    );
    expect(status(markup({ choices: [] }))).toBe('Using the versions stored on this device.');
    // There before the first manifest, so that what comes later is announced.
    expect(status(markup({ manifest: null }))).toBe('');
  });

  it('offers the checkbox before the first manifest too', () => {
    const html = markup({ manifest: null });
    expect(rows(html)).toEqual([]);
    expect(html).toContain('type="checkbox"');
  });
});
