import type { EscalationPolicy, Fallback } from './orchestration';

/**
 * Deliveries one notification may plan. Its state (every delivery and the timeline) travels whole in
 * the workflow's records, queries and continue-as-new input, which Temporal caps at 2 MB a payload:
 * 2,000 deliveries of a few hundred bytes each leave room for the request and the timeline.
 * A larger audience is a broadcast's job.
 */
export const MAX_PLANNED_DELIVERIES = 2_000;

/** Times an acknowledgement nobody resolves re-opens an escalation; after that it stays acknowledged. */
export const MAX_REOPENS = 10;

export interface PlanShape {
  recipients: number;
  channels: number;
  fallback?: Pick<Fallback, 'channels'>;
  escalation?: Pick<EscalationPolicy, 'steps' | 'repeat' | 'ackTimeoutMs'>;
}

/**
 * The most deliveries one recipient's plan can make: the primaries, every fallback channel, every
 * escalation step's channels and their repeats, again for each time an unresolved acknowledgement
 * re-opens the escalation.
 */
export function deliveriesPerRecipient(plan: Omit<PlanShape, 'recipients'>): number {
  const escalationSends = (plan.escalation?.steps ?? []).reduce((n, s) => n + s.channels.length, 0);
  const opening =
    plan.channels + (plan.fallback?.channels.length ?? 0) + escalationSends * (1 + (plan.escalation?.repeat ?? 0));
  return opening * (plan.escalation?.ackTimeoutMs ? 1 + MAX_REOPENS : 1);
}

export function plannedDeliveries(plan: PlanShape): number {
  return plan.recipients * deliveriesPerRecipient(plan);
}
