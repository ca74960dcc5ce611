import { evaluateExperiment, type ExperimentInput } from '../../domain/experiments/decision';
import {
  alwaysValidPValue,
  confidenceSequence,
  differenceOf,
  logMixtureLikelihoodRatio,
  plannedSampleSize,
  tauFor,
} from '../../domain/experiments/msprt';
import { chiSquareSurvival, sampleRatioMismatch } from '../../domain/experiments/srm';

const DAY = 86_400_000;
const START = '2025-01-01T00:00:00.000Z';
const afterDays = (days: number) => new Date(Date.parse(START) + days * DAY).toISOString();

/** 10 % against 15 % on 2,000 each: significant at α = 0.05 with the default τ. */
const control = { name: 'A', weight: 1, exposed: 2_000, outcomes: 200 };
const better = { name: 'B', weight: 1, exposed: 2_000, outcomes: 300 };

const input = (overrides: Partial<ExperimentInput>): ExperimentInput => ({
  variants: [control, better],
  minDurationMs: 7 * DAY,
  startedAt: START,
  now: afterDays(8),
  ...overrides,
});

describe('the mSPRT', () => {
  it('is the NOTES formula with equal arms: Λ = √(V/(V+nτ²)) · exp(n²τ²θ̂²/(2V(V+nτ²))), V = σ²', () => {
    const [n, sigma2, theta, tau] = [1_000, 0.09 + 0.1056, 0.02, 0.02];
    const notes =
      0.5 * Math.log(sigma2 / (sigma2 + n * tau * tau)) +
      (n * n * tau * tau * theta * theta) / (2 * sigma2 * (sigma2 + n * tau * tau));
    expect(logMixtureLikelihoodRatio({ difference: theta, variance: sigma2 / n }, tau)).toBeCloseTo(notes, 12);
  });

  it('gives p = min(1, 1/Λ), and its confidence sequence leaves out 0 exactly when p < α', () => {
    const a = { exposed: 3_000, outcomes: 300 };
    for (const outcomes of [300, 330, 345, 360, 400]) {
      const b = { exposed: 2_500, outcomes };
      const p = alwaysValidPValue(a, b, 0.02);
      expect(p).toBeCloseTo(Math.min(1, Math.exp(-logMixtureLikelihoodRatio(differenceOf(a, b), 0.02))), 12);
      const [low, high] = confidenceSequence(a, b, 0.02, 0.05);
      expect(low > 0 || high < 0).toBe(p < 0.05);
      expect(low).toBeLessThan(differenceOf(a, b).difference);
    }
  });

  it('treats an arm with no outcome, or only outcomes, as uncertain rather than exact', () => {
    const none = { exposed: 100, outcomes: 0 };
    expect(differenceOf(none, none).variance).toBeGreaterThan(0);
    expect(alwaysValidPValue(none, none, 0.01)).toBe(1);
    const all = { exposed: 100, outcomes: 100 };
    const [low, high] = confidenceSequence(none, all, 0.5, 0.05);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeLessThanOrEqual(1);
    expect(() => differenceOf({ exposed: 10, outcomes: 11 }, none)).toThrow(RangeError);
    expect(() => differenceOf({ exposed: 0, outcomes: 0 }, none)).toThrow(RangeError);
  });

  it('takes τ as the expected absolute difference, and plans more samples for smaller lifts and more variants', () => {
    expect(tauFor(0.1, 0.2)).toBeCloseTo(0.02, 12);
    expect(tauFor(0.1, -0.2)).toBeCloseTo(0.02, 12);
    const planned = plannedSampleSize(0.1, 0.2, 0.05, 0.8);
    expect(planned).toBeGreaterThan(7_000);
    expect(planned).toBeLessThan(8_000);
    expect(plannedSampleSize(0.1, 0.1)).toBeGreaterThan(3 * planned);
    expect(plannedSampleSize(0.1, 0.2, 0.05, 0.8, 2)).toBeGreaterThan(planned);
    expect(plannedSampleSize(0.1, 0.2, 0.05, 0.9)).toBeGreaterThan(planned);
    expect(() => plannedSampleSize(0.6, 1)).toThrow(RangeError);
    expect(() => tauFor(0.1, 0)).toThrow(RangeError);
  });
});

describe('the sample-ratio check', () => {
  it('has the χ² survival function of the tables', () => {
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(5.991, 2)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(7.815, 3)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(18.307, 10)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(10.828, 1)).toBeCloseTo(0.001, 5);
    expect(chiSquareSurvival(0.5, 4)).toBeCloseTo(0.9735, 4);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('finds a 55/45 split of 10,000 on 50/50 weights, and not a fair one', () => {
    const skewed = sampleRatioMismatch([
      { weight: 50, exposed: 5_500 },
      { weight: 50, exposed: 4_500 },
    ]);
    expect(skewed).toMatchObject({ chiSquare: 100, degreesOfFreedom: 1, mismatch: true });
    expect(skewed.pValue).toBeLessThan(1e-20);
    const fair = sampleRatioMismatch([
      { weight: 50, exposed: 5_020 },
      { weight: 50, exposed: 4_980 },
    ]);
    expect(fair.mismatch).toBe(false);
    expect(fair.pValue).toBeCloseTo(0.689, 3);
    const uneven = sampleRatioMismatch([
      { weight: 80, exposed: 8_000 },
      { weight: 20, exposed: 2_000 },
    ]);
    expect(uneven).toMatchObject({ pValue: 1, mismatch: false });
    expect(
      sampleRatioMismatch([
        { weight: 1, exposed: 10 },
        { weight: 0, exposed: 1 },
      ]).mismatch,
    ).toBe(true);
  });

  it('stops the experiment, whatever the metric says', () => {
    const result = evaluateExperiment(
      input({
        variants: [
          { ...control, exposed: 5_500, outcomes: 550 },
          { ...better, exposed: 4_500, outcomes: 900 },
        ],
      }),
    );
    expect(result.state).toBe('stopped_srm');
    expect(result.winner).toBeUndefined();
    expect(result.srm.mismatch).toBe(true);
    expect(result.reason).toContain('A 5,500, B 4,500');
  });
});

describe('evaluating an experiment', () => {
  it('declares the winner with its figures once every condition holds', () => {
    const result = evaluateExperiment(input({}));
    expect(result.state).toBe('winner');
    expect(result.winner).toBe('B');
    expect(result.srm).toEqual({ pValue: 1, mismatch: false });
    const [a, b] = result.variants;
    expect(a).toMatchObject({ name: 'A', state: 'control', rate: 0.1 });
    expect(b).toMatchObject({ name: 'B', state: 'winner', rate: 0.15 });
    expect(b!.lift).toBeCloseTo(0.5, 12);
    expect(b!.pValue).toBeLessThan(0.05);
    expect(b!.interval![0]).toBeGreaterThan(0);
    expect(result.reason).toBe(
      `B wins: 15 % against 10 % for the control A, +50 %, always-valid p = ${b!.pValue!.toFixed(3)}; ` +
        `the difference is between +${(b!.interval![0] * 100).toFixed(2)} and +${(b!.interval![1] * 100).toFixed(2)} ` +
        'percentage points at 95 % confidence, with at least 2,000 exposures per variant over 8 days.',
    );
    expect(result.tau).toBeGreaterThan(0);
  });

  it('holds the decision until every variant has the minimum sample', () => {
    const few = { name: 'C', weight: 0.04, exposed: 80, outcomes: 8 };
    const held = evaluateExperiment(input({ variants: [control, better, few], minSamples: 100 }));
    expect(held.state).toBe('running');
    expect(held.variants.find((v) => v.name === 'B')!.state).toBe('leading');
    expect(held.reason).toContain('C has 80 of the 100 exposures each variant needs');
    const enough = evaluateExperiment(input({ variants: [control, better, { ...few, exposed: 100, outcomes: 10 }] }));
    expect(enough.state).toBe('winner');

    const tooFew = evaluateExperiment(input({ minSamples: 3_000 }));
    expect(tooFew.state).toBe('running');
    expect(tooFew.reason).toContain('A has 2,000 and B 2,000 of the 3,000 exposures each variant needs');
  });

  it('holds the decision until the minimum duration has passed, and leaves the control when it ends before', () => {
    const early = evaluateExperiment(input({ now: afterDays(2) }));
    expect(early.state).toBe('running');
    expect(early.winner).toBeUndefined();
    expect(early.reason).toContain('only 2 days of the minimum 7 days have passed');
    const ended = evaluateExperiment(input({ now: afterDays(2), ending: true }));
    expect(ended.state).toBe('no_winner');
    expect(ended.reason).toMatch(/^Ended without a winner, so the control A stays: B is significantly better/);
    expect(evaluateExperiment(input({ now: afterDays(7) })).state).toBe('winner');
  });

  it('never lets a variant that breaches a guardrail win', () => {
    const breach = input({
      guardrails: { failed: 0.02 },
      variants: [
        { ...control, failed: 20 },
        { ...better, failed: 100 },
      ],
    });
    const result = evaluateExperiment(breach);
    expect(result.state).toBe('running');
    expect(result.variants[1]).toMatchObject({ state: 'guardrail_breached', guardrailsBreached: ['failed'] });
    expect(result.reason).toContain("failure rate is 4 points above the control's, past the limit of 2 points");
    expect(evaluateExperiment({ ...breach, ending: true }).state).toBe('no_winner');
    // Within the limit, it wins.
    const within = evaluateExperiment(
      input({
        guardrails: { failed: 0.02, unsubscribed: 0.01 },
        variants: [
          { ...control, failed: 20 },
          { ...better, failed: 50 },
        ],
      }),
    );
    expect(within.state).toBe('winner');
  });

  it('never makes a significantly worse variant the winner, and picks the best of several that qualify', () => {
    const worse = { name: 'W', weight: 1, exposed: 2_000, outcomes: 100 };
    const alone = evaluateExperiment(input({ variants: [control, worse], ending: true }));
    expect(alone.state).toBe('no_winner');
    expect(alone.variants[1]!.state).toBe('behind');
    expect(alone.reason).toContain('W is significantly worse (5 % against 10 %');

    const good = { name: 'G', weight: 1, exposed: 2_000, outcomes: 290 };
    const several = evaluateExperiment(input({ variants: [control, worse, good, better] }));
    expect(several.winner).toBe('B');
    expect(several.variants.map((v) => v.state)).toEqual(['control', 'behind', 'leading', 'winner']);
    // Bonferroni over three comparisons: each p-value is three times the raw one.
    const raw = alwaysValidPValue(control, better, several.tau!);
    expect(several.variants[3]!.pValue).toBeCloseTo(Math.min(1, 3 * raw), 12);
  });

  it('keeps each always-valid p-value from rising across looks, however the data turn', () => {
    // B starts strong, then the two converge: the p-value taken alone would climb back.
    const looks = [
      [100, 100, 1_000, 140],
      [200, 200, 2_000, 250],
      [300, 300, 3_000, 330],
      [400, 400, 4_000, 420],
      [500, 500, 5_000, 505],
    ].map(([a, an, b, bn]) => ({ a: { exposed: a! * 10, outcomes: an! }, b: { exposed: b!, outcomes: bn! } }));
    const tau = 0.01;
    let previous: Record<string, number> | undefined;
    const pValues: number[] = [];
    const alone: number[] = [];
    for (const { a, b } of looks) {
      const result = evaluateExperiment(
        input({
          variants: [
            { ...control, ...a },
            { ...better, ...b },
          ],
          previousPValues: previous,
          tau,
        }),
      );
      pValues.push(result.variants[1]!.pValue!);
      alone.push(alwaysValidPValue(a, b, tau));
      previous = { B: result.variants[1]!.pValue! };
    }
    for (let i = 1; i < pValues.length; i++) expect(pValues[i]).toBeLessThanOrEqual(pValues[i - 1]!);
    expect(alone[alone.length - 1]).toBeGreaterThan(Math.min(...alone));
    expect(pValues[pValues.length - 1]).toBe(Math.min(...alone));
  });

  it('gives no p-value before the minimum sample, so an early fluke cannot stay', () => {
    const result = evaluateExperiment(
      input({
        variants: [
          { ...control, exposed: 20, outcomes: 0 },
          { ...better, exposed: 20, outcomes: 10 },
        ],
      }),
    );
    expect(result.variants[1]!.pValue).toBeUndefined();
    expect(result.tau).toBeUndefined();
    expect(result.state).toBe('running');
    expect(result.reason).toContain('p-values start once the control and a variant have 100 exposures each');
  });

  it('refuses inputs that cannot be counts of an experiment', () => {
    expect(() => evaluateExperiment(input({ variants: [control] }))).toThrow(RangeError);
    expect(() => evaluateExperiment(input({ variants: [control, { ...better, name: 'A' }] }))).toThrow(RangeError);
    expect(() => evaluateExperiment(input({ variants: [control, { ...better, outcomes: 3_000 }] }))).toThrow(
      RangeError,
    );
    expect(() => evaluateExperiment(input({ alpha: 1 }))).toThrow(RangeError);
    expect(() => evaluateExperiment(input({ now: 'yesterday' }))).toThrow(RangeError);
    expect(() => evaluateExperiment(input({ previousPValues: { B: 2 } }))).toThrow(RangeError);
  });
});
