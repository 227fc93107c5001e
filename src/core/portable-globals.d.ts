/**
 * The only host globals that core (and model) may use: the ones that pages, workers and
 * Node ≥ 20 all have, with just the members used. Core is type-checked with no DOM and no
 * Node library, so anything else of a host is a type error there.
 */
declare var crypto: {
  readonly subtle: {
    digest(algorithm: 'SHA-256', data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>;
  };
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  randomUUID?(): string;
};

declare class TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}

declare var performance: { now(): number };
