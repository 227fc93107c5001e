/**
 * Checked file contents by sha256, least recently used out first, within a byte budget. A
 * file bigger than the whole budget is never kept (it would push out everything else).
 */
export interface ByteCache {
  get(sha256: string): Uint8Array | undefined;
  set(sha256: string, data: Uint8Array): void;
  readonly bytes: number;
}

export function createByteCache(budgetBytes: number): ByteCache {
  // A Map iterates in insertion order: re-inserting on use keeps the oldest use first.
  const entries = new Map<string, Uint8Array>();
  let bytes = 0;
  return {
    get(sha256) {
      const data = entries.get(sha256);
      if (data !== undefined) {
        entries.delete(sha256);
        entries.set(sha256, data);
      }
      return data;
    },
    set(sha256, data) {
      if (entries.has(sha256) || data.byteLength > budgetBytes) return;
      entries.set(sha256, data);
      bytes += data.byteLength;
      for (const [oldest, old] of entries) {
        if (bytes <= budgetBytes) break;
        entries.delete(oldest);
        bytes -= old.byteLength;
      }
    },
    get bytes() {
      return bytes;
    },
  };
}
