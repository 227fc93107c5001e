/**
 * A Storage like localStorage, held in memory: what one browser profile keeps across
 * reloads, for the tests of what the app keeps there (settings, the installation secret,
 * the former candidates). `values` shows what was written.
 */
export function memoryStorage(initial: Record<string, string> = {}): Storage & {
  values: Map<string, string>;
} {
  const values = new Map(Object.entries(initial));
  return {
    values,
    get length() {
      return values.size;
    },
    clear: () => values.clear(),
    getItem: (key) => values.get(key) ?? null,
    key: (index) => [...values.keys()][index] ?? null,
    removeItem: (key) => void values.delete(key),
    setItem: (key, value) => void values.set(key, value),
  };
}
