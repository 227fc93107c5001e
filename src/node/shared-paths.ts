import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the project finds the shared models and test data, for every Node entry point
 * (server, CLI, tests, build config). By default `../shared` beside the project; a clone
 * elsewhere (a CI checkout in a temp dir) points SHARED_DIR, MODELS_DIR or DATA_DIR at them.
 */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const SHARED_DIR = resolve(PROJECT_ROOT, process.env.SHARED_DIR || '../shared');

export const DEFAULT_MODELS_DIR = resolve(
  PROJECT_ROOT,
  process.env.MODELS_DIR || join(SHARED_DIR, 'models'),
);

export const DATA_DIR = resolve(PROJECT_ROOT, process.env.DATA_DIR || join(SHARED_DIR, 'data'));
