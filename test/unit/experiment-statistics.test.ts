import { evaluateExperiment, type ExperimentEvaluation } from '../../domain/experiments/decision';
import { plannedSampleSize, tauFor } from '../../domain/experiments/msprt';

/**
 * The decision's error rates, measured by simulation with fixed seeds.
 *
 * One simulated experiment: recipients arrive in batches of `lookEvery` (50 per arm on average); each
 * recipient is assigned at random by the weights (so arm sizes vary, as they do in production) and meets
 * the metric with their variant's true rate. After every batch the decision is evaluated with the
 * counts so far, the previous evaluation's p-values and τ, as the scheduled evaluation does. The
 * experiment stops at a winner, at a sample-ratio mismatch, or once the exposures reach the horizon.
 */

const ALPHA = 0.05;
const STARTED = '2025-01-01T00:00:00.000Z';
const NOW = '2025-02-01T00:00:00.000Z';

// By local name: a global lookup is slow in Jest's vm context, and these run millions of times.
const { imul, pow } = Math;

/** mulberry32: a 32-bit seeded generator, good enough for counting errors. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Binomial(n, p) draw by inversion: n stays ≤ a few hundred here, so (1 − p)^n does not underflow. */
function binomial(n: number, p: number, random: () => number): number {
  if (n === 0 || p === 0) return 0;
  if (p === 1) return n;
  const u = random();
  const odds = p / (1 - p);
  let k = 0;
  let probability = pow(1 - p, n);
  let cumulative = probability;
  while (u > cumulative && k < n) {
    probability *= ((n - k) / (k + 1)) * odds;
    k++;
    cumulative += probability;
  }
  return k;
}

interface Scenario {
  rates: number[];
  /** Total exposures per arm (on average) at which the experiment stops. */
  horizonPerArm: number;
  runs: number;
  seed: number;
  tau?: number;
  lookEvery?: number;
}

interface Tally {
  runs: number;
  winners: Record<string, number>;
  srmStops: number;
  looks: number;
}

function simulate({ rates, horizonPerArm, runs, seed, tau, lookEvery = 50 * rates.length }: Scenario): Tally {
  const random = mulberry32(seed);
  const names = rates.map((_, i) => String.fromCharCode(65 + i));
  const tally: Tally = { runs, winners: {}, srmStops: 0, looks: 0 };
  for (let run = 0; run < runs; run++) {
    const exposed = rates.map(() => 0);
    const outcomes = rates.map(() => 0);
    let last: ExperimentEvaluation | undefined;
    for (let total = 0; total < horizonPerArm * rates.length; total += lookEvery) {
      // A multinomial split of the batch over equal weights, by conditional binomials.
      let left = lookEvery;
      for (let i = 0; i < rates.length; i++) {
        const arrived = i === rates.length - 1 ? left : binomial(left, 1 / (rates.length - i), random);
        left -= arrived;
        exposed[i]! += arrived;
        outcomes[i]! += binomial(arrived, rates[i]!, random);
      }
      const previousPValues: Record<string, number> = {};
      for (const v of last?.variants ?? []) if (v.pValue !== undefined) previousPValues[v.name] = v.pValue;
      last = evaluateExperiment({
        variants: names.map((name, i) => ({ name, weight: 1, exposed: exposed[i]!, outcomes: outcomes[i]! })),
        alpha: ALPHA,
        minDurationMs: 0,
        startedAt: STARTED,
        now: NOW,
        previousPValues,
        tau: tau ?? last?.tau,
      });
      tally.looks++;
      if (last.state === 'winner') {
        tally.winners[last.winner!] = (tally.winners[last.winner!] ?? 0) + 1;
        break;
      }
      if (last.state === 'stopped_srm') {
        tally.srmStops++;
        break;
      }
    }
  }
  return tally;
}

const rateOf = (tally: Tally, ...names: string[]) =>
  names.reduce((sum, name) => sum + (tally.winners[name] ?? 0), 0) / tally.runs;

describe('the sequential decision, by simulation', () => {
  const measured: Record<string, string> = {};
  afterAll(() => console.log(`experiment statistics (α = ${ALPHA}):\n${JSON.stringify(measured, null, 2)}`));

  it('declares a false winner in at most α + 1 point of 2,000 A/A experiments, looking every 100 exposures', () => {
    const tally = simulate({ rates: [0.1, 0.1], horizonPerArm: 10_000, runs: 2_000, seed: 1 });
    const falseWinners = rateOf(tally, 'B');
    measured['A/A false-winner rate (2 variants, 10 %, 200 looks to 10,000 per arm)'] = `${falseWinners}`;
    measured['A/A stops for sample-ratio mismatch'] = `${tally.srmStops / tally.runs}`;
    expect(falseWinners).toBeLessThanOrEqual(ALPHA + 0.01);
  });

  it('holds the same on a rare metric (2 %), where arms see few outcomes', () => {
    const tally = simulate({ rates: [0.02, 0.02], horizonPerArm: 10_000, runs: 1_000, seed: 5 });
    const falseWinners = rateOf(tally, 'B');
    measured['A/A false-winner rate (2 variants, 2 %, 200 looks to 10,000 per arm)'] = `${falseWinners}`;
    expect(falseWinners).toBeLessThanOrEqual(ALPHA + 0.01);
  });

  it('keeps the A/A false-winner rate of three variants within α + 1 point (Bonferroni)', () => {
    const tally = simulate({ rates: [0.1, 0.1, 0.1], horizonPerArm: 10_000, runs: 2_000, seed: 2 });
    const falseWinners = rateOf(tally, 'B', 'C');
    measured['A/A false-winner rate (3 variants, 10 %, 200 looks to 10,000 per arm)'] = `${falseWinners}`;
    expect(falseWinners).toBeLessThanOrEqual(ALPHA + 0.01);
  });

  const planned = plannedSampleSize(0.1, 0.2, ALPHA, 0.8);
  const tau = tauFor(0.1, 0.2);

  it('finds a 20 % lift on a 10 % rate in at least 80 % of runs by the planned sample size', () => {
    const tally = simulate({ rates: [0.1, 0.12], horizonPerArm: planned, runs: 1_000, seed: 3, tau });
    const power = rateOf(tally, 'B');
    measured['planned sample size per variant (10 % → 12 %, 80 % power)'] = `${planned}`;
    measured['power by the planned size'] = `${power}`;
    expect(power).toBeGreaterThanOrEqual(0.8);
  });

  it('declares the worse variant the winner in at most α of runs', () => {
    const tally = simulate({ rates: [0.12, 0.1], horizonPerArm: planned, runs: 1_000, seed: 4, tau });
    const wrong = rateOf(tally, 'B');
    measured['wrong-winner rate (control 12 %, variant 10 %)'] = `${wrong}`;
    expect(wrong).toBeLessThanOrEqual(ALPHA);
  });
});
