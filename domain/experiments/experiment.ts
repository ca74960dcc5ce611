import type { DeliveryStatus } from '../notification';
import type { ExperimentEvaluation, ExperimentInput } from './decision';

/** What counts as a success for a recipient who saw a variant. */
export const EXPERIMENT_METRICS = ['clicked', 'opened', 'acknowledged', 'delivered'] as const;
export type ExperimentMetric = (typeof EXPERIMENT_METRICS)[number];

/** A variant is a version of the experiment's template, shown to its share of recipients. */
export interface ExperimentVariant {
  name: string;
  version: number;
  weight: number;
}

/** How much worse than the control a variant may be (absolute rate) before it cannot win. */
export interface Guardrails {
  failed?: number;
  unsubscribed?: number;
}

/** A recipient's engagement with one delivery, as far as experiments care. */
export type Engagement = 'delivered' | 'opened' | 'clicked' | 'acknowledged' | 'failed' | 'unsubscribed';

/** The metrics an engagement meets: a click was opened and delivered too. */
export function metricsMet(engagement: Engagement): ExperimentMetric[] {
  switch (engagement) {
    case 'clicked':
      return ['clicked', 'opened', 'delivered'];
    case 'opened':
      return ['opened', 'delivered'];
    case 'delivered':
      return ['delivered'];
    case 'acknowledged':
      return ['acknowledged'];
    default:
      return [];
  }
}

/** The engagement a delivery's new status means, if any. */
export function engagementOf(status: DeliveryStatus): Engagement | undefined {
  return status === 'delivered' || status === 'opened' || status === 'clicked' || status === 'failed'
    ? status
    : undefined;
}

export type ExperimentResult = ExperimentEvaluation;

/**
 * The test's scale τ follows the control's rate, which means little until some outcomes have come in
 * (exposures count at once, clicks hours later): τ is kept from a look only once the control had this many.
 */
export const OUTCOMES_TO_FIX_TAU = 10;

/** An experiment as stored, as far as evaluating it needs. */
export interface ExperimentSetup {
  variants: ExperimentVariant[];
  alpha: number;
  expectedLift: number | null;
  minSamples: number;
  minDurationSeconds: number;
  guardrails: Guardrails | null;
  startedAt: Date;
  /** The last evaluation: its p-values never rise again, its τ stays. */
  result: ExperimentResult | null;
}

/** What the decision rule is given at one look: the counts now, and what the last look kept. */
export function evaluationInput(
  experiment: ExperimentSetup,
  counts: { variant: string; exposed: number; outcomes: number; failed: number; unsubscribed: number }[],
  now: Date,
  ending: boolean,
): ExperimentInput {
  const byName = new Map(counts.map((c) => [c.variant, c]));
  const previous = experiment.result;
  return {
    variants: experiment.variants.map((v) => {
      const c = byName.get(v.name);
      return {
        name: v.name,
        weight: v.weight,
        exposed: c?.exposed ?? 0,
        outcomes: c?.outcomes ?? 0,
        failed: c?.failed ?? 0,
        unsubscribed: c?.unsubscribed ?? 0,
      };
    }),
    alpha: experiment.alpha,
    ...(experiment.expectedLift !== null ? { expectedLift: experiment.expectedLift } : {}),
    minSamples: experiment.minSamples,
    minDurationMs: experiment.minDurationSeconds * 1000,
    startedAt: experiment.startedAt.toISOString(),
    now: now.toISOString(),
    ending,
    ...(experiment.guardrails ? { guardrails: experiment.guardrails } : {}),
    ...(previous?.tau !== undefined && (previous.variants[0]?.outcomes ?? 0) >= OUTCOMES_TO_FIX_TAU
      ? { tau: previous.tau }
      : {}),
    ...(previous
      ? {
          previousPValues: Object.fromEntries(
            previous.variants.filter((v) => v.pValue !== undefined).map((v) => [v.name, v.pValue!]),
          ),
        }
      : {}),
  };
}
