import { z } from 'zod';
import { BACKENDS, type BackendName } from '../../core/backend-choice';
import { formatModelRef, type ModelRef } from '../../core/model-ref';

/**
 * The measured backend choice, remembered per device (this browser profile) and per
 * model version, so the trial runs once rather than on every visit.
 */
const rememberedSchema = z.object({
  backend: z.enum(BACKENDS),
  measuredAt: z.string(),
  mediansMs: z.record(z.string(), z.number().nullable()),
});

export type RememberedChoice = z.infer<typeof rememberedSchema>;

export interface BackendMemory {
  recall(model: ModelRef): RememberedChoice | null;
  remember(model: ModelRef, backend: BackendName, mediansMs: Record<string, number | null>): void;
}

/** A storage key is a string by nature: the one place the joined form is used for one. */
const key = (model: ModelRef) => `fieldid-backend-choice:${formatModelRef(model)}`;

export function recallBackend(model: ModelRef): RememberedChoice | null {
  try {
    const raw = localStorage.getItem(key(model));
    if (raw === null) return null;
    const parsed = rememberedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function rememberBackend(
  model: ModelRef,
  backend: BackendName,
  mediansMs: Record<string, number | null>,
): void {
  const value: RememberedChoice = { backend, measuredAt: new Date().toISOString(), mediansMs };
  try {
    localStorage.setItem(key(model), JSON.stringify(value));
  } catch {
    // Storage full or blocked: the trial simply runs again next time.
  }
}

export const localBackendMemory: BackendMemory = {
  recall: recallBackend,
  remember: rememberBackend,
};
