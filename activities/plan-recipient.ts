import type { Database } from '../db/connect';
import { readManyPreferences, readPreferences } from '../db/preferences';
import { inTenant } from '../db/tenant-scope';
import { recipientPlan, type RecipientPlan } from '../domain/recipient-plan';

export interface PlanRecipientInput {
  tenantId: string;
  recipientId: string;
  category?: string;
  /** The recipient's own time zone, for quiet hours that do not name one. */
  timezone?: string;
  /** The workflow's now: quiet hours are judged at the workflow's time, not the worker's clock. */
  at: string;
}

export interface PlanRecipientsInput extends Omit<PlanRecipientInput, 'recipientId' | 'timezone'> {
  recipients: Pick<PlanRecipientInput, 'recipientId' | 'timezone'>[];
}

/** Reads a recipient's preferences as they stand now: what they take, and whether to hold until morning. */
export function createPlanRecipient(db: Database) {
  return async function planRecipient(input: PlanRecipientInput): Promise<RecipientPlan> {
    const { tenantId, recipientId } = input;
    const { preferences } = await inTenant(db, tenantId, (tx) => readPreferences(tx, tenantId, recipientId));
    return recipientPlan(preferences, input.category, input.timezone, new Date(input.at));
  };
}

/** Several recipients' plans of one notification from one read of the tenant's preferences, in order. */
export function createPlanRecipients(db: Database) {
  return async function planRecipients(input: PlanRecipientsInput): Promise<RecipientPlan[]> {
    const ids = [...new Set(input.recipients.map((r) => r.recipientId))];
    const stored = await inTenant(db, input.tenantId, (tx) => readManyPreferences(tx, input.tenantId, ids));
    const at = new Date(input.at);
    return input.recipients.map((r) => recipientPlan(stored.get(r.recipientId) ?? {}, input.category, r.timezone, at));
  };
}
