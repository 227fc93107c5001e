import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { realModel, type RealModel, type RealModelId } from '../src/core/real-models.fixtures';
import { DEFAULT_MODELS_DIR, PROJECT_ROOT } from '../src/node/shared-paths';

/** A shared model's labels and label spec, read from MODELS_DIR (core's fixture reads no files). */
export function loadRealModel(id: RealModelId): RealModel {
  return realModel(id, readFileSync(path.join(DEFAULT_MODELS_DIR, id, 'labels.txt'), 'utf8'));
}

/** A model output that is zero except at the given output indices. */
export function outputVector(count: number, entries: Record<number, number>): Float32Array {
  const probabilities = new Float32Array(count);
  for (const [index, probability] of Object.entries(entries)) {
    probabilities[Number(index)] = probability;
  }
  return probabilities;
}

/** Runs an npm script of the project as a user would, collecting its output. */
export function runNpm(
  args: string[],
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}
