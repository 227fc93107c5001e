import { parseArgs } from 'node:util';
import { DEFAULT_TOP_K } from '../core/answer';
import { MICRO_BATCH } from '../model/engine';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';
import { classifyFiles, classifySameAnimal, expandPaths } from './classify-files';
import { openNodeModel } from '../node/inference/node-model';
import { AUTO_MODEL, openCascade } from '../node/inference/model-cascade';

/**
 * npm run classify -- [--model ID|auto] [--same-animal] [--top K] [--batch N] PATH...
 * One JSON object per line on stdout, in input order. `--model auto` lets the general model
 * hand birds and insects to their specialists; `--same-animal` prints one line for all the
 * files (after the error lines of those that could not be read). Exit status: 0 when every
 * file was classified, 1 when some could not be (their lines say why), 2 for a usage error.
 */
const USAGE =
  'usage: npm run classify -- [--model ID|auto] [--same-animal] [--top K] [--batch N] PATH...';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        top: { type: 'string', default: String(DEFAULT_TOP_K) },
        batch: { type: 'string', default: String(MICRO_BATCH) },
        'same-animal': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${String(error instanceof Error ? error.message : error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help || positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const topK = Number(values.top);
  const batchSize = Number(values.batch);
  if (!Number.isInteger(topK) || topK < 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    process.stderr.write(`--top and --batch must be positive integers\n${USAGE}\n`);
    return 2;
  }
  const modelsDir = DEFAULT_MODELS_DIR;
  const options = { topK, batchSize };
  const emit = (line: unknown) => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  let counts: { classified: number; failed: number };
  if (values.model === AUTO_MODEL || values['same-animal']) {
    const cascade = await openCascade(modelsDir, values.model ?? null);
    if (!cascade.ok) {
      process.stderr.write(`${cascade.error.message} ${cascade.error.detail ?? ''}\n`);
      return 2;
    }
    const files = await expandPaths(positionals);
    counts = values['same-animal']
      ? await classifySameAnimal(files, cascade.value, options, emit)
      : await classifyFiles(files, cascade.value, options, emit);
  } else {
    const model = await openNodeModel(modelsDir, values.model ?? null);
    if (!model.ok) {
      process.stderr.write(`${model.error.message} ${model.error.detail ?? ''}\n`);
      return 2;
    }
    const files = await expandPaths(positionals);
    counts = await classifyFiles(files, model.value.engine, options, emit);
  }
  const { classified, failed } = counts;
  process.stderr.write(`classified ${classified}, failed ${failed}\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
