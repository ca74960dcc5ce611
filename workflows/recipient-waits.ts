import { condition, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING } from '../domain/delivery-policy';
import type { Contact, NotificationRequest } from '../domain/notification';
import type { RecipientPlan } from '../domain/recipient-plan';
import { PATCHES, type ChangeGate } from './definitions';
import { gatherer } from './gather';

const { planRecipient, planRecipients } = proxyActivities<Activities>(BOOKKEEPING);

interface PlanRead {
  contact: Contact;
  resolve: (plan: RecipientPlan) => void;
  reject: (error: unknown) => void;
}

/**
 * What a notification's recipients wait on: their send time and quiet hours (timers), then their preferences
 * read again (an activity). In runs that take the shared-waits patch, recipients waiting for one instant share
 * its timer, and reads that several of them start together (woken by that timer) are one activity. The patch
 * is checked at the first wait, or before the first record when there is one, so a notification that sends at
 * once carries no marker.
 */
export function recipientWaits(request: NotificationRequest, takes: ChangeGate) {
  const { tenantId, category } = request;
  let taken: boolean | undefined;
  const shared = () => (taken ??= request.recipients.length > 1 && takes(PATCHES.sharedWaits));

  const timers = new Map<string, Promise<void>>();
  /** Until the instant, `ms` from now, or sooner once `stop` holds. */
  const until = (instant: string, ms: number, stop: () => boolean): Promise<unknown> => {
    if (!shared()) return condition(stop, ms);
    let timer = timers.get(instant);
    if (!timer) timers.set(instant, (timer = sleep(ms)));
    return Promise.race([timer, condition(stop)]);
  };

  const gatherRead = gatherer<'preferences', PlanRead>(async (_, reads) => {
    try {
      const plans = await planRecipients({
        tenantId,
        category,
        at: new Date().toISOString(),
        recipients: reads.map(({ contact }) => ({ recipientId: contact.id, timezone: contact.timezone })),
      });
      reads.forEach((read, i) => read.resolve(plans[i]!));
    } catch (error) {
      reads.forEach((read) => read.reject(error));
    }
  });
  /** The recipient's preferences as they stand now: what they take, and whether to hold until morning. */
  const planOf = (contact: Contact): Promise<RecipientPlan> => {
    if (shared()) return new Promise((resolve, reject) => gatherRead('preferences', { contact, resolve, reject }));
    const at = new Date().toISOString();
    return planRecipient({ tenantId, recipientId: contact.id, category, timezone: contact.timezone, at });
  };

  /**
   * Decides now whether this notification's recipients share their waits: the caller does so before a local
   * activity, since a replay may hand over that activity's result a workflow task earlier than it came, and a
   * patch first checked after it would then be looked for in the wrong task.
   */
  const decideSharing = () => void shared();

  return { until, planOf, decideSharing };
}
