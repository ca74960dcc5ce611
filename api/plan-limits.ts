import { deliveriesPerRecipient, MAX_PLANNED_DELIVERIES, MAX_REOPENS, type PlanShape } from '../domain/plan-size';
import { Problem } from './problems';

const count = (n: number) => n.toLocaleString('en-US');

function reopening(plan: Omit<PlanShape, 'recipients'>): string {
  return plan.escalation?.ackTimeoutMs
    ? `, times ${MAX_REOPENS + 1} because ack_timeout may re-open the escalation ${MAX_REOPENS} times`
    : '';
}

/**
 * Refuses a notification whose plan could make more deliveries than one notification may carry, naming
 * what to change: the recipients when one recipient's plan fits, else the plan itself.
 */
export function rejectOversizedPlan(plan: PlanShape, recipientsField: string): void {
  const perRecipient = deliveriesPerRecipient(plan);
  const total = plan.recipients * perRecipient;
  if (total <= MAX_PLANNED_DELIVERIES) return;
  const alone = perRecipient <= MAX_PLANNED_DELIVERIES;
  throw new Problem(
    422,
    'Plan too large',
    `This notification plans up to ${count(total)} deliveries (${count(plan.recipients)} recipients × ` +
      `${count(perRecipient)} sends each: channels, fallback and escalation steps with their repeats` +
      `${reopening(plan)}); one notification carries at most ${count(MAX_PLANNED_DELIVERIES)}. ` +
      (alone
        ? `Send to at most ${count(Math.floor(MAX_PLANNED_DELIVERIES / perRecipient))} recipients per notification, ` +
          'or use POST /broadcasts for a large audience.'
        : 'Plan fewer channels, escalation steps or repeats.'),
    alone ? recipientsField : plan.escalation ? 'escalation' : 'fallback',
  );
}

/** Refuses an escalation policy that alone, for a single recipient, plans more than a notification carries. */
export function rejectOversizedPolicy(escalation: NonNullable<PlanShape['escalation']>): void {
  const perRecipient = deliveriesPerRecipient({ channels: 1, escalation });
  if (perRecipient <= MAX_PLANNED_DELIVERIES) return;
  throw new Problem(
    422,
    'Plan too large',
    `This policy plans up to ${count(perRecipient)} deliveries for a single recipient (a primary channel, ` +
      `every step's channels with their repeats${reopening({ channels: 1, escalation })}); one notification ` +
      `carries at most ${count(MAX_PLANNED_DELIVERIES)}. Plan fewer steps, channels per step or repeats.`,
    'steps',
  );
}
