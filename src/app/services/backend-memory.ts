import { z } from 'zod';
import { BACKENDS, type BackendName } from '../../core/backend-choice';

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

const key = (modelRef: string) => `fieldid-backend-choice:${modelRef}`;

export function recallBackend(modelRef: string): RememberedChoice | null {
  try {
    const raw = localStorage.getItem(key(modelRef));
    if (raw === null) return null;
    const parsed = rememberedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function rememberBackend(
  modelRef: string,
  backend: BackendName,
  mediansMs: Record<string, number | null>,
): void {
  const value: RememberedChoice = { backend, measuredAt: new Date().toISOString(), mediansMs };
  try {
    localStorage.setItem(key(modelRef), JSON.stringify(value));
  } catch {
    // Storage full or blocked: the trial simply runs again next time.
  }
}
