import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogTemperature } from '../core/model-catalog';
import { DATA_DIR, DEFAULT_MODELS_DIR } from '../node/shared-paths';
import {
  calibrationReport,
  CALIBRATION_SETS,
  measureSets,
  splitOf,
  type CalibrationReport,
  type MeasuredSet,
} from './calibration-run';

/**
 * `npm run calibrate` on the real models and photos, through the same code: the committed
 * temperatures are what the fit gives, and they make the probabilities more honest on
 * photos the fit never saw. Each photo is classified once (the whole run takes about a
 * minute on two cores).
 */

/** The catalogue holds T to 4 decimals; the fit is deterministic. */
const MAX_RELATIVE_T_DIFFERENCE = 0.002;
/**
 * The general model's T is close to 1 and its report split has 196 photos, where one photo
 * moves ECE by about 0.005: on one model alone, calibration may not be worse than this.
 */
const MAX_ECE_WORSENING = 0.01;

let measured: MeasuredSet[];
let report: CalibrationReport;

beforeAll(async () => {
  measured = await measureSets(DEFAULT_MODELS_DIR, DATA_DIR);
  report = calibrationReport(measured, { precision: false });
}, 600_000);

describe('the labelled sets and their split', () => {
  it('classifies every photo of each set once, and splits them by content', async () => {
    expect(measured.map((m) => m.entry.id)).toEqual(CALIBRATION_SETS.map((s) => s.modelId));
    for (const { set, photos } of measured) {
      expect(photos.map((p) => p.file)).toEqual(set.photos.map((p) => p.file));
      // The split is a property of the bytes alone: recomputed here from the file.
      const first = photos[0]!;
      const bytes = await readFile(path.join(DATA_DIR, set.folder, first.file));
      expect(splitOf(bytes)).toBe(first.split);
      const fit = photos.filter((p) => p.split === 'fit').length;
      expect(fit).toBeGreaterThan(photos.length / 4);
      expect(fit).toBeLessThan((photos.length * 3) / 4);
    }
    const [imagenet, birds, insects] = measured;
    // One photo per ImageNet animal class; the CUB species and Leeds species the specialist knows.
    expect(imagenet!.photos).toHaveLength(398);
    expect(birds!.photos.length + birds!.set.excluded.length).toBe(110);
    expect(birds!.photos.length).toBeGreaterThanOrEqual(80);
    expect(insects!.photos.length + insects!.set.excluded.length).toBe(60);
    expect(insects!.photos.length).toBeGreaterThanOrEqual(36);
  });
});

describe('temperature scaling on the real models', () => {
  it('the catalogue holds the temperature that the fit gives', () => {
    for (const model of report.models) {
      const id = model.model.split('@')[0]!;
      expect(model.committedTemperature).toBe(catalogTemperature(id));
      const relative = Math.abs(model.committedTemperature - model.temperature) / model.temperature;
      expect(
        relative,
        `${id}: fitted ${model.temperature}, paste ${report.catalogue[id]}`,
      ).toBeLessThan(MAX_RELATIVE_T_DIFFERENCE);
    }
  });

  it('lowers the likelihood loss on the fit split and leaves top-1 unchanged', () => {
    for (const model of report.models) {
      expect(model.nll.after).toBeLessThanOrEqual(model.nll.before);
      expect(model.fit.top1Calibrated).toBe(model.fit.top1);
      expect(model.report.top1Calibrated).toBe(model.report.top1);
    }
  });

  it('lowers ECE on the report split (the three models together), and never raises it much on one', () => {
    expect(report.pooledReport.photos).toBe(report.models.reduce((s, m) => s + m.report.photos, 0));
    expect(report.pooledReport.eceAfter).toBeLessThan(report.pooledReport.eceBefore);
    for (const model of report.models) {
      expect(model.report.eceAfter, model.model).toBeLessThan(
        model.report.eceBefore + MAX_ECE_WORSENING,
      );
    }
  });

  it('prints the threshold table for every set on raw and calibrated probabilities', () => {
    const { raw, calibrated, calibratedReportSplit } = report.notSure;
    const all = measured.reduce((s, m) => s + m.photos.length, 0);
    expect(raw.photos).toBe(all);
    expect(calibrated.photos).toBe(all);
    expect(calibratedReportSplit.photos).toBe(report.pooledReport.photos);
    for (const table of [raw, calibrated, calibratedReportSplit]) {
      for (const step of table.steps) expect(step.perModel).toHaveLength(measured.length);
      const answered = table.steps.map((s) => s.answered);
      expect(answered).toEqual([...answered].sort((a, b) => b - a));
    }
  });
});
