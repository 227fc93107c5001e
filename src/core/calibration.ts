/**
 * Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017) for
 * models that output softmax probabilities, and the figures that say whether it helped:
 * expected calibration error, a reliability table, and the trade-off of a "Not sure"
 * threshold. Plain numbers in, plain numbers out.
 */

/**
 * One labelled model output. `correct` lists the output indices that count as right
 * (ImageNet sometimes has two lines for one animal); its probabilities are summed.
 */
export interface LabelledOutput {
  probabilities: ArrayLike<number>;
  correct: readonly number[];
}

/**
 * softmax(log(p) / T): the models give probabilities, and log p equals the logits up to a
 * constant, which softmax ignores. A zero (or negative, or non-finite) probability stays 0
 * at every temperature (the limit of p^(1/T)); an output with nothing positive comes back
 * all zeros, as `translateOutput` treats it. T = 1 returns the probabilities renormalised.
 */
export function applyTemperature(
  probabilities: ArrayLike<number>,
  temperature: number,
): Float64Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be a positive number, got ${temperature}`);
  }
  const n = probabilities.length;
  const scaled = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i] ?? 0;
    const logit = Number.isFinite(p) && p > 0 ? Math.log(p) / temperature : -Infinity;
    scaled[i] = logit;
    if (logit > max) max = logit;
  }
  if (max === -Infinity) return scaled.fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(scaled[i]! - max);
    scaled[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) scaled[i] = scaled[i]! / sum;
  return scaled;
}

/**
 * Below this the true class's probability counts as this: one photo the model rules out
 * entirely must not make the likelihood infinite at every temperature.
 */
const MIN_LIKELIHOOD = 1e-12;

/**
 * The outputs as sparse log-probabilities, computed once: the fit evaluates the likelihood
 * at dozens of temperatures, and the zero entries never contribute.
 */
interface LogOutput {
  logs: Float64Array;
  correct: Int32Array;
}

function toLogOutputs(set: readonly LabelledOutput[]): LogOutput[] {
  return set.map(({ probabilities, correct }) => {
    const kept: number[] = [];
    const where = new Map<number, number>();
    for (let i = 0; i < probabilities.length; i++) {
      const p = probabilities[i] ?? 0;
      if (Number.isFinite(p) && p > 0) {
        where.set(i, kept.length);
        kept.push(Math.log(p));
      }
    }
    // Positions in `logs` of the right classes the model gave any probability to.
    const positions = [...new Set(correct)].flatMap((c) => {
      const at = where.get(c);
      return at === undefined ? [] : [at];
    });
    return { logs: Float64Array.from(kept), correct: Int32Array.from(positions) };
  });
}

function logSumExp(values: Float64Array, scale: number, only?: Int32Array): number {
  let max = -Infinity;
  const count = only ? only.length : values.length;
  for (let j = 0; j < count; j++) {
    const v = values[only ? only[j]! : j]! * scale;
    if (v > max) max = v;
  }
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let j = 0; j < count; j++) sum += Math.exp(values[only ? only[j]! : j]! * scale - max);
  return max + Math.log(sum);
}

function meanNll(outputs: readonly LogOutput[], temperature: number): number {
  const scale = 1 / temperature;
  let total = 0;
  for (const { logs, correct } of outputs) {
    const logRight = logSumExp(logs, scale, correct) - logSumExp(logs, scale);
    total -= Math.max(logRight, Math.log(MIN_LIKELIHOOD));
  }
  return total / outputs.length;
}

/** Mean negative log-likelihood of the right classes after scaling by `temperature`. */
export function negativeLogLikelihood(set: readonly LabelledOutput[], temperature: number): number {
  if (set.length === 0) return NaN;
  return meanNll(toLogOutputs(set), temperature);
}

export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
}

export interface FitOptions {
  /** The search interval for T; the fit says so (throws) when the best T sits on its edge. */
  minTemperature?: number;
  maxTemperature?: number;
}

const DEFAULT_MIN_TEMPERATURE = 0.05;
const DEFAULT_MAX_TEMPERATURE = 20;
/**
 * Golden-section steps over log T: each keeps 0.618 of the interval, so the ~6 wide start
 * ends below 1e-7, far finer than the figures' own precision.
 */
const SEARCH_STEPS = 40;

/**
 * The T that minimises the mean negative log-likelihood, by golden-section search over
 * log T. The likelihood is convex in 1/T (log-sum-exp of logits linear in 1/T), so it has
 * one minimum and the search finds it; the steps are fixed, so the same set always gives
 * the same T.
 */
export function fitTemperature(
  set: readonly LabelledOutput[],
  options: FitOptions = {},
): TemperatureFit {
  if (set.length === 0) throw new RangeError('cannot fit a temperature on an empty set');
  const outputs = toLogOutputs(set);
  const lowT = options.minTemperature ?? DEFAULT_MIN_TEMPERATURE;
  const highT = options.maxTemperature ?? DEFAULT_MAX_TEMPERATURE;
  const objective = (logT: number) => meanNll(outputs, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(lowT);
  let b = Math.log(highT);
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = objective(c);
  let fd = objective(d);
  for (let step = 0; step < SEARCH_STEPS; step++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = objective(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = objective(d);
    }
  }
  const temperature = Math.exp((a + b) / 2);
  const edge = 1e-6;
  if (temperature <= lowT * (1 + edge) || temperature >= highT * (1 - edge)) {
    throw new RangeError(
      `the best temperature lies at the edge of [${lowT}, ${highT}]: widen the search or check the labels`,
    );
  }
  return {
    temperature,
    nllBefore: meanNll(outputs, 1),
    nllAfter: meanNll(outputs, temperature),
  };
}

/** Equal-width bins over top-1 confidence, the usual choice in the calibration literature. */
export const ECE_BINS = 15;

export interface ReliabilityBin {
  /** The bin holds confidences in (lower, upper]; the first bin also holds 0. */
  lower: number;
  upper: number;
  count: number;
  /** null for an empty bin. */
  meanConfidence: number | null;
  accuracy: number | null;
}

export interface TopOne {
  index: number;
  confidence: number;
  right: boolean;
}

/** The highest output (ties to the lower index, as `topK` does) and whether it is right. */
export function topOne(output: LabelledOutput): TopOne {
  let index = -1;
  let confidence = -Infinity;
  for (let i = 0; i < output.probabilities.length; i++) {
    const raw = output.probabilities[i] ?? 0;
    const p = Number.isFinite(raw) && raw > 0 ? raw : 0;
    if (p > confidence) {
      confidence = p;
      index = i;
    }
  }
  return { index, confidence: Math.max(0, confidence), right: output.correct.includes(index) };
}

export function reliabilityTable(
  predictions: readonly Pick<TopOne, 'confidence' | 'right'>[],
  bins = ECE_BINS,
): ReliabilityBin[] {
  const counts = new Array<number>(bins).fill(0);
  const confidenceSums = new Array<number>(bins).fill(0);
  const rightCounts = new Array<number>(bins).fill(0);
  for (const { confidence, right } of predictions) {
    const c = Math.min(1, Math.max(0, confidence));
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    counts[bin]!++;
    confidenceSums[bin]! += c;
    if (right) rightCounts[bin]!++;
  }
  return counts.map((count, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count,
    meanConfidence: count === 0 ? null : confidenceSums[b]! / count,
    accuracy: count === 0 ? null : rightCounts[b]! / count,
  }));
}

/** Σ over bins of |B|/n · |accuracy(B) − mean confidence(B)|; NaN for an empty set. */
export function expectedCalibrationError(
  predictions: readonly Pick<TopOne, 'confidence' | 'right'>[],
  bins = ECE_BINS,
): number {
  if (predictions.length === 0) return NaN;
  let total = 0;
  for (const bin of reliabilityTable(predictions, bins)) {
    if (bin.count === 0) continue;
    total += (bin.count / predictions.length) * Math.abs(bin.accuracy! - bin.meanConfidence!);
  }
  return total;
}

export interface ThresholdStep {
  threshold: number;
  /** Photos whose best candidate reaches the threshold (they get an answer). */
  answered: number;
  answeredRight: number;
  /** Against the previous threshold: right answers newly withheld, wrong ones newly removed. */
  withheldRight: number;
  removedWrong: number;
  /** answeredRight / answered; null when nothing is answered. */
  precision: number | null;
}

/**
 * What a "Not sure below t" rule costs and gains at each threshold, in order: a photo is
 * answered when its best candidate's probability is at least t. The first row compares
 * with answering everything.
 */
export function thresholdTradeOff(
  predictions: readonly Pick<TopOne, 'confidence' | 'right'>[],
  thresholds: readonly number[],
): ThresholdStep[] {
  const sorted = [...thresholds].sort((x, y) => x - y);
  let previousRight = predictions.filter((p) => p.right).length;
  let previousWrong = predictions.length - previousRight;
  return sorted.map((threshold) => {
    let right = 0;
    let wrong = 0;
    for (const p of predictions) {
      if (!(p.confidence >= threshold)) continue;
      if (p.right) right++;
      else wrong++;
    }
    const step: ThresholdStep = {
      threshold,
      answered: right + wrong,
      answeredRight: right,
      withheldRight: previousRight - right,
      removedWrong: previousWrong - wrong,
      precision: right + wrong === 0 ? null : right / (right + wrong),
    };
    previousRight = right;
    previousWrong = wrong;
    return step;
  });
}
