import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ChannelChoice } from '../../core/model-channels';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import type { ModelRef } from '../../core/model-ref';
import { ModelVersions, TRY_CANDIDATES_LABEL } from './ModelVersions';

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
    loaded: ModelRef | null;
    tryCandidates: boolean;
    disabled: boolean;
    manifest: typeof manifest | null;
  }> = {},
) {
  return renderToStaticMarkup(
    createElement(ModelVersions, {
      manifest,
      choices,
      loaded: general,
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

  it('shows the stored version that runs offline rather than the one listed', () => {
    const [row] = rows(markup({ loaded: { id: general.id, version: 'g0' } }));
    expect(row).toMatchObject({ version: 'g0' });
    expect(row!.text).toBe('General (ImageNet) version g0 In use until version g1 can be loaded');
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
    expect(html).toMatch(/<input[^>]*disabled=""/);
    expect(text(html)).toContain('The model cannot change while a batch is running.');
  });

  it('offers the checkbox before the first manifest too', () => {
    const html = markup({ manifest: null });
    expect(rows(html)).toEqual([]);
    expect(html).toContain('type="checkbox"');
  });
});
