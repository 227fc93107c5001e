import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import { ModelChoiceFieldset } from './ModelChoiceFieldset';
import { RemoveConfirm } from './OfflinePacks';

/**
 * What the model setting and the removal confirmation put on the page, rendered to
 * markup: what is offered, in which order, and what assistive technology reads.
 */

const general = { ...fakeModelEntry('imagenet-mobilenet-v2', 'g1'), name: 'General (ImageNet)' };
const birds = { ...fakeModelEntry('inat-birds-mobilenet-v2', 'b1'), name: 'Birds (iNaturalist)' };
const insects = {
  ...fakeModelEntry('inat-insects-mobilenet-v2', 'i1'),
  name: 'Insects (iNaturalist)',
};
const manifest = fakeManifest(general, birds, insects);

/** The options in order, with their text and whether they are checked. */
function options(modelId: string | null) {
  const html = renderToStaticMarkup(
    createElement(ModelChoiceFieldset, { manifest, modelId, disabled: false, onChoose: () => {} }),
  );
  return [...html.matchAll(/<label[^>]*data-model="([^"]+)"[^>]*>(.*?)<\/label>/g)].map(
    ([, model, inner]) => ({
      model,
      checked: /<input[^>]*checked=""/.test(inner!),
      text: inner!.replace(/<[^>]+>/g, ''),
    }),
  );
}

describe('ModelChoiceFieldset', () => {
  it('offers Auto first, recommended and explained, then each model alone', () => {
    const offered = options(null);
    expect(offered.map((o) => o.model)).toEqual(['auto', general.id, birds.id, insects.id]);
    expect(offered[0]!.text).toContain('Auto (recommended)');
    expect(offered[0]!.text).toContain(
      'General (ImageNet) looks at each photo first; when it sees a bird or an insect, the birds or insects model names the species.',
    );
    expect(offered.slice(1).map((o) => o.text)).toEqual([
      expect.stringContaining('General (ImageNet) only'),
      expect.stringContaining('Birds (iNaturalist) only'),
      expect.stringContaining('Insects (iNaturalist) only'),
    ]);
  });

  it('says a specialist chosen by hand answers only for photos of its group', () => {
    const [, generalOnly, birdsOnly, insectsOnly] = options(null);
    expect(birdsOnly!.text).toContain(
      'Only for photos of birds: another photo is said not to be a bird.',
    );
    expect(insectsOnly!.text).toContain('Only for photos of insects');
    expect(generalOnly!.text).not.toContain('Only for photos of');
  });

  it('checks Auto for the default setting and for a model no longer listed', () => {
    for (const modelId of [null, 'withdrawn-model']) {
      expect(options(modelId).map((o) => o.checked)).toEqual([true, false, false, false]);
    }
    expect(options(birds.id).map((o) => o.checked)).toEqual([false, false, true, false]);
  });
});

describe('RemoveConfirm', () => {
  const markup = (use: Parameters<typeof RemoveConfirm>[0]['use']) =>
    renderToStaticMarkup(
      createElement(RemoveConfirm, { entry: birds, use, onCancel: () => {}, onRemove: () => {} }),
    );

  it('is a dialog named by its question and described by what removing changes', () => {
    const html = markup({ kind: 'auto-specialist', group: 'bird' });
    const labelledBy = /<dialog[^>]*aria-labelledby="([^"]+)"/.exec(html)?.[1];
    const describedBy = /<dialog[^>]*aria-describedby="([^"]+)"/.exec(html)?.[1];
    expect(html).toMatch(
      new RegExp(`<h3 id="${labelledBy}">Remove Birds \\(iNaturalist\\) from this device\\?</h3>`),
    );
    const description = new RegExp(`<p id="${describedBy}">([^<]*)</p>`).exec(html)?.[1];
    expect(description).toContain('Auto mode names birds with it.');
    expect(description).toContain('downloaded again');
    expect(description).toContain('which needs the network');
  });

  it('puts Cancel before Remove, so the safe choice comes first', () => {
    const buttons = [...markup({ kind: 'chosen' }).matchAll(/<button[^>]*>([^<]*)<\/button>/g)];
    expect(buttons.map((b) => b[1])).toEqual(['Cancel', 'Remove']);
  });

  it('names the hand-chosen specialist that needs the general model', () => {
    const html = renderToStaticMarkup(
      createElement(RemoveConfirm, {
        entry: general,
        use: { kind: 'checks-group', group: 'insect', specialist: insects },
        onCancel: () => {},
        onRemove: () => {},
      }),
    );
    expect(html).toContain(
      'Insects (iNaturalist), chosen in Settings, needs it to check that a photo shows an insect.',
    );
  });
});
