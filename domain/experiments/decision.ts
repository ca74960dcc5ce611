import { confidenceSequence, differenceOf, logMixtureLikelihoodRatio } from './msprt';
import { sampleRatioMismatch } from './srm';

/**
 * When an experiment has a winner. Pure: a scheduled evaluation reads the counters, calls
 * `evaluateExperiment` with them and what the last evaluation returned (its p-values and τ), and stores
 * the answer. The p-values are always valid (mSPRT), so evaluating every minute is as sound as
 * evaluating once at the end.
 */

// Built-ins by local name: the evaluation runs hundreds of thousands of times in the simulations that
// check it, under Jest, where a global lookup inside the vm context is slow.
const { abs, exp, max, min } = Math;
const { isFinite: isFiniteNumber, isInteger, isNaN: isNotANumber } = Number;
const { entries } = Object;
const parseDate = Date.parse;

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_MIN_SAMPLES = 100;
/**
 * Relative lift the default τ is tuned to when the experiment did not plan one (see `tauFor`): a 10 %
 * change of the control's rate, or of its complement when the rate is above one half.
 */
export const DEFAULT_EXPECTED_LIFT = 0.1;
/**
 * No p-value before both arms have this many exposures (or the minimum sample, if larger): the normal
 * approximation behind the mSPRT is poor on a handful of recipients, and since the p-value keeps its
 * minimum, one early fluke would stay forever.
 */
export const MIN_INFERENCE_EXPOSURES = 30;

export interface VariantObservation {
  name: string;
  weight: number;
  /** Recipients who saw this variant (each counted once). */
  exposed: number;
  /** Of them, those who met the metric. */
  outcomes: number;
  failed?: number;
  unsubscribed?: number;
}

/**
 * Guardrails compare observed rates (point estimates): a variant over a limit cannot win, even if the
 * excess might be chance, since a winner is rolled out to everyone.
 */
export interface GuardrailLimits {
  /** Largest allowed increase of the failure rate over the control's, absolute (0.02 = 2 points). */
  failed?: number;
  /** Likewise for the unsubscribe rate. */
  unsubscribed?: number;
}

export interface ExperimentInput {
  /** The first is the control. */
  variants: readonly VariantObservation[];
  alpha?: number;
  /** Exposures every variant needs before a winner, default 100. */
  minSamples?: number;
  minDurationMs: number;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601. */
  now: string;
  /** The `pValue` of each variant from the last evaluation, so p-values never rise. */
  previousPValues?: Readonly<Record<string, number>>;
  guardrails?: GuardrailLimits;
  /** The experiment ends now: a winner if there is one, else the control stays. */
  ending?: boolean;
  /**
   * The mixing scale, fixed for the experiment: `tauFor(expected base rate, expected lift)` at creation,
   * or the `tau` of the last evaluation. Without it, τ comes from the control's rate at this look and
   * `expectedLift` (pass it back afterwards to keep it fixed).
   */
  tau?: number;
  /** Relative lift the default τ is tuned to, default 0.1. */
  expectedLift?: number;
}

export type ExperimentState = 'running' | 'winner' | 'no_winner' | 'stopped_srm';

/**
 * `leading`: significantly better than the control, but not (yet) the winner; `behind`: significantly
 * worse; `inconclusive`: neither, so far.
 */
export type VariantState = 'control' | 'leading' | 'behind' | 'winner' | 'inconclusive' | 'guardrail_breached';

export type Guardrail = keyof GuardrailLimits;

export interface VariantResult {
  name: string;
  exposed: number;
  outcomes: number;
  rate: number;
  /** (rate − control rate) / control rate. */
  lift?: number;
  /** Always-valid, Bonferroni-adjusted p-value against the control. */
  pValue?: number;
  /** Always-valid confidence interval for rate − control rate, at α/(k − 1). */
  interval?: [number, number];
  state: VariantState;
  guardrailsBreached?: Guardrail[];
}

export interface ExperimentEvaluation {
  state: ExperimentState;
  winner?: string;
  /** What a user reads, with the figures. */
  reason: string;
  variants: VariantResult[];
  srm: { pValue: number; mismatch: boolean };
  /** The τ used; pass it back as `tau` next time. Absent until the control has enough exposures. */
  tau?: number;
}

interface Compared {
  observation: VariantObservation;
  result: VariantResult;
  difference: number;
  better: boolean;
  worse: boolean;
}

export function evaluateExperiment(input: ExperimentInput): ExperimentEvaluation {
  const settings = checkInput(input);
  const { alpha, minSamples } = settings;
  const variants = input.variants;
  const control = variants[0]!;
  const comparisons = variants.length - 1;
  const inferenceFloor = max(minSamples, MIN_INFERENCE_EXPOSURES);
  const controlRate = rateOf(control);
  const tau = input.tau ?? (control.exposed >= inferenceFloor ? defaultTau(control, settings.expectedLift) : undefined);

  const compared: Compared[] = variants.slice(1).map((observation) => {
    const rate = rateOf(observation);
    const difference = rate - controlRate;
    const result: VariantResult = {
      name: observation.name,
      exposed: observation.exposed,
      outcomes: observation.outcomes,
      rate,
      state: 'inconclusive',
    };
    if (controlRate > 0) result.lift = difference / controlRate;
    const previous = input.previousPValues?.[observation.name];
    if (tau !== undefined && control.exposed >= inferenceFloor && observation.exposed >= inferenceFloor) {
      const estimate = differenceOf(control, observation);
      const raw = min(1, exp(-logMixtureLikelihoodRatio(estimate, tau)));
      result.pValue = min(previous ?? 1, min(1, raw * comparisons));
      result.interval = confidenceSequence(control, observation, tau, alpha / comparisons);
    } else if (previous !== undefined) {
      result.pValue = previous;
    }
    const breached = breachedGuardrails(control, observation, input.guardrails);
    if (breached.length > 0) result.guardrailsBreached = breached;
    const significant = result.pValue !== undefined && result.pValue < alpha;
    return {
      observation,
      result,
      difference,
      better: significant && difference > 0,
      worse: significant && difference < 0,
    };
  });

  const srmCheck = sampleRatioMismatch(variants);
  const srm = { pValue: srmCheck.pValue, mismatch: srmCheck.mismatch };
  const elapsedMs = settings.elapsedMs;
  const short = variants.filter((v) => v.exposed < minSamples);
  const minimumsMet = short.length === 0 && elapsedMs >= input.minDurationMs;
  const candidates = compared
    .filter((c) => c.better && !c.result.guardrailsBreached)
    .sort((a, b) => b.result.rate - a.result.rate || a.result.pValue! - b.result.pValue!);
  const best = candidates[0];
  const winner = !srm.mismatch && minimumsMet ? best : undefined;

  for (const c of compared) {
    c.result.state =
      c === winner
        ? 'winner'
        : c.result.guardrailsBreached
          ? 'guardrail_breached'
          : c.worse
            ? 'behind'
            : c.better
              ? 'leading'
              : 'inconclusive';
  }
  const results: VariantResult[] = [
    { name: control.name, exposed: control.exposed, outcomes: control.outcomes, rate: controlRate, state: 'control' },
    ...compared.map((c) => c.result),
  ];
  const evaluation = (state: ExperimentState, reason: string): ExperimentEvaluation => ({
    state,
    ...(winner ? { winner: winner.observation.name } : {}),
    reason,
    variants: results,
    srm,
    ...(tau !== undefined ? { tau } : {}),
  });

  if (srm.mismatch) return evaluation('stopped_srm', srmReason(variants, srm.pValue));
  if (winner) return evaluation('winner', winnerReason(control, winner, alpha, variants, elapsedMs));

  const holds: string[] = [];
  if (short.length > 0) {
    const listed = short.map((v, i) => `${v.name}${i === 0 ? ' has' : ''} ${count(v.exposed)}`);
    holds.push(`${joinAnd(listed)} of the ${count(minSamples)} exposures each variant needs`);
  }
  if (elapsedMs < input.minDurationMs) {
    holds.push(`only ${duration(max(0, elapsedMs))} of the minimum ${duration(input.minDurationMs)} have passed`);
  }
  const metric = best
    ? `${best.observation.name} is significantly better than the control ${control.name} (${summary(control, best)})`
    : noCandidate(control, compared, input.guardrails ?? {}, inferenceFloor, alpha);
  const because = best ? `${metric}, but ${joinAnd(holds)}` : [metric, ...holds].join('; ');
  if (input.ending) {
    return evaluation('no_winner', `Ended without a winner, so the control ${control.name} stays: ${because}.`);
  }
  return evaluation('running', `Still running: ${because}.`);
}

function defaultTau(control: VariantObservation, expectedLift: number): number {
  const p = (control.outcomes + 0.5) / (control.exposed + 1);
  return min(p, 1 - p) * expectedLift;
}

function rateOf(v: VariantObservation): number {
  return v.exposed > 0 ? v.outcomes / v.exposed : 0;
}

function breachedGuardrails(
  control: VariantObservation,
  variant: VariantObservation,
  limits: GuardrailLimits | undefined,
): Guardrail[] {
  if (!limits || control.exposed === 0 || variant.exposed === 0) return [];
  return (['failed', 'unsubscribed'] as const).filter((g) => {
    const limit = limits[g];
    return limit !== undefined && guardrailIncrease(control, variant, g) > limit;
  });
}

/** The variant's rate of a guardrail event minus the control's (point estimates). */
function guardrailIncrease(control: VariantObservation, variant: VariantObservation, g: Guardrail): number {
  return (variant[g] ?? 0) / variant.exposed - (control[g] ?? 0) / control.exposed;
}

function noCandidate(
  control: VariantObservation,
  compared: Compared[],
  limits: GuardrailLimits,
  inferenceFloor: number,
  alpha: number,
): string {
  const blocked = compared.filter((c) => c.better && c.result.guardrailsBreached);
  const clauses: string[] = [];
  if (blocked.length > 0) {
    for (const c of blocked) {
      const g = c.result.guardrailsBreached![0]!;
      clauses.push(
        `${c.observation.name} did better on the metric (${summary(control, c)}) but its ${g === 'failed' ? 'failure' : 'unsubscribe'} rate is ${magnitude(guardrailIncrease(control, c.observation, g))} points above the control's, past the limit of ${magnitude(limits[g]!)} points`,
      );
    }
  } else if (compared.every((c) => c.result.pValue === undefined)) {
    clauses.push(`p-values start once the control and a variant have ${count(inferenceFloor)} exposures each`);
  } else {
    const top = [...compared].sort((a, b) => b.result.rate - a.result.rate)[0]!;
    const best = top.worse ? '' : ` (best: ${top.observation.name}, ${summary(control, top)})`;
    clauses.push(`no variant is significantly better than the control ${control.name} at α = ${alpha}${best}`);
  }
  for (const c of compared.filter((x) => x.worse)) {
    clauses.push(`${c.observation.name} is significantly worse (${summary(control, c)})`);
  }
  return clauses.join('; ');
}

function winnerReason(
  control: VariantObservation,
  winner: Compared,
  alpha: number,
  variants: readonly VariantObservation[],
  elapsedMs: number,
): string {
  const confidence = `${round((1 - alpha / (variants.length - 1)) * 100, 2)} %`;
  const interval = winner.result.interval;
  const range = interval
    ? `; the difference is between ${points(interval[0])} and ${points(interval[1])} percentage points at ${confidence} confidence`
    : '';
  const fewest = min(...variants.map((v) => v.exposed));
  return (
    `${winner.observation.name} wins: ${summary(control, winner, ` for the control ${control.name}`)}${range}, ` +
    `with at least ${count(fewest)} exposures per variant over ${duration(elapsedMs)}.`
  );
}

function srmReason(variants: readonly VariantObservation[], pValue: number): string {
  const split = variants.map((v) => `${v.name} ${count(v.exposed)}`).join(', ');
  const weights = variants.map((v) => round(v.weight, 2)).join('/');
  return (
    `Stopped: the exposures (${split}) do not follow the weights ${weights} (sample-ratio χ² test, ${pText(pValue)}), ` +
    'so assignment or counting is broken and no comparison of the variants can be trusted.'
  );
}

/** "15 % against 10 %, +50 %, always-valid p = 0.006". */
function summary(control: VariantObservation, c: Compared, controlNamed = ''): string {
  const lift =
    c.result.lift !== undefined ? `, ${c.result.lift >= 0 ? '+' : '-'}${round(abs(c.result.lift) * 100, 1)} %` : '';
  const p = c.result.pValue !== undefined ? `, always-valid ${pText(c.result.pValue)}` : '';
  return `${percent(c.result.rate)} against ${percent(rateOf(control))}${controlNamed}${lift}${p}`;
}

function pText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${round(p, 3)}`;
}

function percent(rate: number): string {
  return `${round(rate * 100, rate !== 0 && rate < 0.1 ? 2 : 1)} %`;
}

function points(difference: number): string {
  return `${difference >= 0 ? '+' : '-'}${round(abs(difference) * 100, 2)}`;
}

function magnitude(difference: number): string {
  return round(abs(difference) * 100, 2);
}

function round(x: number, digits: number): string {
  return `${+x.toFixed(digits)}`;
}

function count(n: number): string {
  return `${n}`.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (ms >= size) {
      const n = round(ms / size, 1);
      return `${n} ${unit}${n === '1' ? '' : 's'}`;
    }
  }
  return `${round(ms / 1000, 0)} seconds`;
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function checkInput(input: ExperimentInput): {
  alpha: number;
  minSamples: number;
  expectedLift: number;
  elapsedMs: number;
} {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const minSamples = input.minSamples ?? DEFAULT_MIN_SAMPLES;
  const expectedLift = input.expectedLift ?? DEFAULT_EXPECTED_LIFT;
  if (input.variants.length < 2) throw new RangeError('an experiment compares at least two variants');
  const names: string[] = [];
  for (const v of input.variants) {
    if (!v.name || names.includes(v.name))
      throw new RangeError(`variant names must be unique and non-empty: "${v.name}"`);
    names.push(v.name);
    for (const [field, value] of [
      ['exposed', v.exposed],
      ['outcomes', v.outcomes],
      ['failed', v.failed ?? 0],
      ['unsubscribed', v.unsubscribed ?? 0],
    ] as const) {
      if (!isInteger(value) || value < 0) throw new RangeError(`${v.name}: ${field} must be a whole number ≥ 0`);
      if (field !== 'exposed' && value > v.exposed) throw new RangeError(`${v.name}: ${field} exceeds exposed`);
    }
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!isInteger(minSamples) || minSamples < 0) throw new RangeError('minSamples must be a whole number ≥ 0');
  if (!(input.minDurationMs >= 0)) throw new RangeError('minDurationMs must be ≥ 0');
  const elapsedMs = parseDate(input.now) - parseDate(input.startedAt);
  if (isNotANumber(elapsedMs)) throw new RangeError('startedAt and now must be ISO 8601 dates');
  if (input.tau !== undefined && !(input.tau > 0 && isFiniteNumber(input.tau))) throw new RangeError('tau must be > 0');
  if (!(expectedLift > 0 && isFiniteNumber(expectedLift))) throw new RangeError('expectedLift must be > 0');
  for (const [g, limit] of entries(input.guardrails ?? {})) {
    if (limit !== undefined && !(limit >= 0)) throw new RangeError(`guardrail ${g} must be ≥ 0`);
  }
  for (const [name, p] of entries(input.previousPValues ?? {})) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`previous p-value of ${name} must be in [0, 1]`);
  }
  return { alpha, minSamples, expectedLift, elapsedMs };
}
