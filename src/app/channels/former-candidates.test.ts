import { describe, expect, it } from 'vitest';
import { stableManifest, withCandidate } from '../../core/model-channels.fixtures';
import { fakeModelEntry } from '../../core/model-manifest.fixtures';
import { memoryStorage } from '../memory-storage.fixtures';
import { createFormerCandidates } from './former-candidates';

const KEY = 'fieldid-former-candidates';
const STABLE = stableManifest(fakeModelEntry('birds', 'v3'));
const ROLLOUT = withCandidate(STABLE, 'birds', 'v4');

describe('the former candidates of an installation', () => {
  it('are kept across a reload', () => {
    const storage = memoryStorage();
    createFormerCandidates(() => storage).note(ROLLOUT);
    expect(createFormerCandidates(() => storage).list()).toEqual([{ id: 'birds', version: 'v4' }]);
  });

  it('read nothing but a list of model versions back', () => {
    for (const bad of ['', 'not json', '{}', '[{"id":"Birds","version":"v4"}]', '[1]']) {
      const former = createFormerCandidates(() => memoryStorage({ [KEY]: bad }));
      expect(former.list(), bad).toEqual([]);
    }
  });

  it('are remembered for the session when storage fails', () => {
    const former = createFormerCandidates(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    former.note(ROLLOUT);
    expect(former.list()).toEqual([{ id: 'birds', version: 'v4' }]);
  });
});
