import { describe, expect, it } from 'vitest';
import { matchesFile, sha256Hex } from './digest';

const data = new TextEncoder().encode('abc').buffer as ArrayBuffer;
const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector', async () => {
    expect(await sha256Hex(data)).toBe(ABC_SHA256);
  });
});

describe('matchesFile', () => {
  it('accepts data with the expected length and digest', async () => {
    expect(await matchesFile(data, { bytes: 3, sha256: ABC_SHA256 })).toBe(true);
  });

  it('rejects data of another length even when the digest matches', async () => {
    expect(await matchesFile(data, { bytes: 4, sha256: ABC_SHA256 })).toBe(false);
  });

  it('rejects data with another digest', async () => {
    expect(await matchesFile(data, { bytes: 3, sha256: '0'.repeat(64) })).toBe(false);
  });
});
