import type { LongTask } from './bench-report';
import type { BenchPageApi } from './page/protocol';

/**
 * What the bench page and the probes of bench-browser.ts put on the page's window, and the
 * Chromium-only members they read. The probes run in the page (Playwright serialises
 * them), so they are typed with the DOM library and these additions.
 */
declare global {
  /** TF.js keeps its engine on the global object (in the worker, read by the memory probe). */
  var _tfengine:
    | {
        memory(): { numTensors: number; numBytes: number };
        backendInstance?: { wasm?: { HEAPU8?: { buffer: { byteLength: number } } } };
      }
    | undefined;
  interface Window {
    fieldidBench?: BenchPageApi;
    benchLongTasks?: LongTask[];
    benchBatch?: { startedAt: number | null; finishedAt: number | null };
    /** With --js-flags=--expose-gc. */
    gc?: () => void;
  }
  interface Performance {
    memory?: { usedJSHeapSize: number };
    measureUserAgentSpecificMemory?(): Promise<{
      bytes: number;
      breakdown: { bytes: number; types: string[]; attribution: { scope: string }[] }[];
    }>;
  }
}

export {};
