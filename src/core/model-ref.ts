/**
 * One model version, as records, history, settings and the worker name it. Kept as two
 * fields so nothing has to split an "id@version" string by hand; the joined form is for
 * display, the CLI's output and cache keys only.
 */
export interface ModelRef {
  id: string;
  version: string;
}

/** "imagenet-mobilenet-v2@1a2b3c4d": the form shown in the UI and printed by the CLI. */
export function formatModelRef(ref: ModelRef): string {
  return `${ref.id}@${ref.version}`;
}

export function sameModel(a: ModelRef, b: ModelRef): boolean {
  return a.id === b.id && a.version === b.version;
}
