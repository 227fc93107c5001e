import { parseArgs } from 'node:util';
import { DATA_DIR, DEFAULT_MODELS_DIR } from '../node/shared-paths';
import { calibrationReport, measureSets } from './calibration-run';

/**
 * npm run calibrate
 * Runs the three shared models on their labelled photo sets, fits each model's temperature
 * on the fit split, and prints one JSON report: ECE before and after on both splits, top-1,
 * reliability tables, and the "Not sure" threshold trade-off on calibrated probabilities.
 * It changes no file: `catalogue` in the report holds the lines to paste into
 * src/core/model-catalog.ts, so a re-fit is a reviewed edit, not a silent rewrite.
 * Exit status: 0 on success, 1 when a model or photo could not be read, 2 for a usage error.
 */
const USAGE = 'usage: npm run calibrate';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`${String(error instanceof Error ? error.message : error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const measured = await measureSets(DEFAULT_MODELS_DIR, DATA_DIR);
    process.stdout.write(`${JSON.stringify(calibrationReport(measured), null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${String(error instanceof Error ? error.message : error)}\n`);
    return 1;
  }
}

process.exitCode = await main();
