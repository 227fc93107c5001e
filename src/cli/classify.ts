import { parseArgs } from 'node:util';
import { DEFAULT_TOP_K } from '../core/answer';
import { MICRO_BATCH } from '../model/engine';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';
import { classifyFiles, expandPaths } from './classify-files';
import { openNodeModel } from '../node/inference/node-model';

/**
 * npm run classify -- [--model ID] [--top K] [--batch N] PATH...
 * One JSON object per line on stdout, in input order. Exit status: 0 when every file was
 * classified, 1 when some could not be (their lines say why), 2 for a usage error.
 */
const USAGE = 'usage: npm run classify -- [--model ID] [--top K] [--batch N] PATH...';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        top: { type: 'string', default: String(DEFAULT_TOP_K) },
        batch: { type: 'string', default: String(MICRO_BATCH) },
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
  const model = await openNodeModel(modelsDir, values.model ?? null);
  if (!model.ok) {
    process.stderr.write(`${model.error.message} ${model.error.detail ?? ''}\n`);
    return 2;
  }
  const files = await expandPaths(positionals);
  const { classified, failed } = await classifyFiles(
    files,
    model.value,
    { topK, batchSize },
    (line) => {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
  );
  process.stderr.write(`classified ${classified}, failed ${failed}\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
