import { evaluateExperiment } from '../../domain/experiments/decision';
import { evaluationInput, OUTCOMES_TO_FIX_TAU, type ExperimentSetup } from '../../domain/experiments/experiment';

const setup = (result: ExperimentSetup['result'] = null): ExperimentSetup => ({
  variants: [
    { name: 'control', version: 1, weight: 1 },
    { name: 'b', version: 2, weight: 1 },
  ],
  alpha: 0.05,
  expectedLift: 3,
  minSamples: 30,
  minDurationSeconds: 0,
  guardrails: null,
  startedAt: new Date('2026-01-01T00:00:00Z'),
  result,
});
const counts = (control: number, b: number) => [
  { variant: 'control', exposed: 60, outcomes: control, failed: 0, unsubscribed: 0 },
  { variant: 'b', exposed: 60, outcomes: b, failed: 0, unsubscribed: 0 },
];
const now = new Date('2026-01-02T00:00:00Z');

describe('an experiment as the decision rule sees it at a look', () => {
  it('does not keep the scale of a look made before the control had outcomes: clicks come after sends', () => {
    // All exposed, nobody has clicked yet: the control's rate says nothing of the scale.
    const early = evaluateExperiment(evaluationInput(setup(), counts(0, 0), now, false));
    const later = evaluationInput(setup(early), counts(5, 30), now, false);
    expect(later.tau).toBeUndefined();
    expect(evaluateExperiment(later)).toMatchObject({ state: 'winner', winner: 'b' });
  });

  it('keeps the scale once the control had enough outcomes, and never lets a p-value rise', () => {
    const first = evaluateExperiment(evaluationInput(setup(), counts(OUTCOMES_TO_FIX_TAU, 14), now, false));
    const next = evaluationInput(setup(first), counts(OUTCOMES_TO_FIX_TAU, 12), now, false);
    expect(next.tau).toBe(first.tau);
    expect(next.previousPValues).toEqual({ b: first.variants[1]!.pValue });
    expect(evaluateExperiment(next).variants[1]!.pValue).toBeLessThanOrEqual(first.variants[1]!.pValue!);
  });

  it('counts a variant nobody saw as none exposed: a split so far from the weights stops the experiment', () => {
    const input = evaluationInput(setup(), [counts(1, 1)[0]!], now, true);
    expect(input.variants[1]).toMatchObject({ name: 'b', exposed: 0, outcomes: 0 });
    expect(evaluateExperiment(input).state).toBe('stopped_srm');
  });
});
