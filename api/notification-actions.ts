import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { recordNotificationEngagement } from '../db/experiments';
import type { SignalDefinition } from '@temporalio/common';
import type { PendingStart } from '../db/pending-starts';
import type { NotificationSnapshot } from '../domain/notification';
import type { Acknowledgement } from '../domain/orchestration';
import {
  acknowledgeSignal,
  cancelSignal,
  notificationWorkflowId,
  resolveSignal,
  retrySignal,
} from '../workflows/definitions';
import type { ApiContext } from './context';
import { notFound, Problem } from './problems';
import { liveSnapshot, recordedSnapshot } from './routes/status';
import { inTenant } from '../db/tenant-scope';

export type NotificationAction = 'cancel' | 'acknowledge' | 'resolve' | 'retry';

/** What an action finds: the notification as it stands, whether its workflow still listens, and the workflow. */
interface Found {
  snapshot?: NotificationSnapshot;
  open: boolean;
  handle: WorkflowHandle;
  /** Accepted and not started yet: the signal starts it. */
  pending?: PendingStart;
}

const conflict = (detail: string) => new Problem(409, 'Not possible in this state', detail);
const happened = (s: NotificationSnapshot | undefined, event: string) =>
  s?.timeline?.some((e) => e.event === event) ?? false;

/**
 * Whether the action applies: `done` when it already happened (answered as if it just did, so retries
 * of the request are harmless), `send` when the workflow should get the signal, or a 409 saying why not.
 */
function decide(action: NotificationAction, { snapshot, open }: Found): 'done' | 'send' {
  const state = snapshot?.status ?? 'accepted';
  if (snapshot && !snapshot.timeline)
    throw conflict('This notification was sent before cancel, acknowledgement and retry existed');
  switch (action) {
    case 'cancel':
      if (happened(snapshot, 'cancelled')) return 'done';
      if (open && (snapshot?.cancellable ?? true)) return 'send';
      throw conflict(`Nothing is left to cancel: the notification is ${state}`);
    case 'acknowledge':
      if (snapshot?.acknowledgement) return 'done';
      if (happened(snapshot, 'cancelled')) throw conflict('The notification was cancelled');
      if (open) return 'send';
      throw conflict(`The notification is closed (${state})`);
    case 'resolve':
      if (happened(snapshot, 'resolved')) return 'done';
      if (!open) throw conflict(`The notification is closed (${state}): nothing is left to resolve`);
      if (snapshot?.acknowledgement) return 'send';
      throw conflict(
        'Only an acknowledged notification can be resolved: acknowledge it first (POST /notifications/:id/ack)',
      );
    case 'retry':
      if (open && snapshot?.retryable) return 'send';
      if (open && state === 'sending' && snapshot?.timeline?.at(-1)?.event === 'retried') return 'done';
      if (open || state !== 'failed')
        throw conflict(`Only a failed notification can be retried, and this one is ${state}: nothing to retry`);
      throw conflict(
        'The retry window has closed (HERALD_RETRY_WINDOW_SECONDS after it failed): send it again with POST /notify',
      );
  }
}

async function find(ctx: ApiContext, tenantId: string, id: string): Promise<Found> {
  const workflowId = notificationWorkflowId(tenantId, id);
  const handle = ctx.temporal.workflow.getHandle(workflowId);
  const pending = await ctx.starts.findPending(workflowId);
  if (pending) return { open: true, handle, pending };
  const live = await liveSnapshot(ctx, handle);
  if (typeof live === 'object') return { snapshot: live, open: true, handle };
  const recorded = await inTenant(ctx.db, tenantId, (db) => recordedSnapshot(db, tenantId, id));
  if (live === 'unanswered') return { snapshot: recorded, open: true, handle };
  if (!recorded) throw notFound(`No notification ${id}`);
  return { snapshot: recorded, open: false, handle };
}

/**
 * Signals the workflow; one not started yet starts with the signal already in its history, so its
 * first task sees it before anything is sent.
 */
function signal<Args extends unknown[]>(
  ctx: ApiContext,
  found: Found,
  definition: SignalDefinition<Args>,
  ...args: Args
): Promise<void> {
  return found.pending
    ? ctx.starts.startWithSignal(found.pending, definition, args)
    : found.handle.signal(definition, ...args);
}

/**
 * Cancels, acknowledges, resolves or retries a notification by signalling its workflow, which decides
 * again when the signal arrives: a state that changed in between makes the signal a no-op, never a mistake.
 */
export async function actOnNotification(
  ctx: ApiContext,
  tenantId: string,
  id: string,
  action: NotificationAction,
  by: { by: string; reason?: string },
): Promise<{ done: boolean; acknowledgement?: Acknowledgement }> {
  const found = await find(ctx, tenantId, id);
  if (decide(action, found) === 'done') return { done: true, acknowledgement: found.snapshot?.acknowledgement };
  try {
    if (action === 'acknowledge') {
      const acknowledgement: Acknowledgement = {
        by: by.by,
        at: new Date().toISOString(),
        via: 'api',
        ...(by.reason ? { note: by.reason } : {}),
      };
      await signal(ctx, found, acknowledgeSignal, acknowledgement);
      // Acknowledged by one of its recipients: an experiment measuring acknowledgements counts it.
      await inTenant(ctx.db, tenantId, (tx) => recordNotificationEngagement(tx, tenantId, id, by.by, 'acknowledged'));
      return { done: false, acknowledgement };
    }
    const definition = { cancel: cancelSignal, resolve: resolveSignal, retry: retrySignal }[action];
    await signal(ctx, found, definition, by);
    return { done: false };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw conflict('The notification closed meanwhile');
    throw error;
  }
}

/**
 * Acknowledgement from a signed link: the recipient it was sent to, through the channel that carried it.
 * The same rules as the API's, answered as words for a page rather than as statuses.
 */
export async function acknowledgeFromLink(
  ctx: ApiContext,
  claim: { tenantId: string; notificationId: string; recipientId: string; channel: string },
): Promise<'acknowledged' | 'already' | 'closed'> {
  try {
    const found = await find(ctx, claim.tenantId, claim.notificationId);
    if (decide('acknowledge', found) === 'done') return 'already';
    await signal(ctx, found, acknowledgeSignal, {
      by: claim.recipientId,
      at: new Date().toISOString(),
      via: 'link',
      channel: claim.channel as Acknowledgement['channel'],
    });
    return 'acknowledged';
  } catch (error) {
    // Gone, cancelled, closed or closing meanwhile: nothing is left to acknowledge.
    if (error instanceof Problem || error instanceof WorkflowNotFoundError) return 'closed';
    throw error;
  }
}
