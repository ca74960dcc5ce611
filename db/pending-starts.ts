import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { PRIORITY_KEYS } from '../domain/delivery-policy';
import type { NotificationRequest, Priority } from '../domain/notification';
import { notificationWorkflowId } from '../workflows/definitions';
import type { Database } from './connect';
import { notificationRow } from './notifications';
import { auditEvents, notifications, pendingStarts } from './schema';
import { inTenantKeys } from './tenant-keys';

export interface Acceptance {
  request: NotificationRequest;
  /** The deployment's task queue: its dispatchers start the workflow. */
  taskQueue: string;
  /** The audit event's actor: the key that made the request. */
  actor: string;
  /** The accepting request's trace, for the workflow start to join. */
  trace?: Record<string, string>;
}

/** A notification waiting for its workflow to start. */
export interface PendingStart {
  request: NotificationRequest;
  trace: Record<string, string> | null;
}

/**
 * Accepts notifications in one transaction: each one's row, pending start and audit event. An entry is
 * false when a notification with its id was accepted first (the same key, concurrently or earlier in the list).
 */
export async function acceptNotifications(db: Database, acceptances: Acceptance[]): Promise<boolean[]> {
  const now = new Date();
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(notifications)
      .values(acceptances.map(({ request }) => notificationRow({ ...request, status: 'accepted' }, now)))
      .onConflictDoNothing()
      .returning({ tenantId: notifications.tenantId, id: notifications.id });
    const fresh = new Set(inserted.map((row) => notificationWorkflowId(row.tenantId, row.id)));
    const won = acceptances.map(({ request }) =>
      fresh.delete(notificationWorkflowId(request.tenantId, request.notificationId)),
    );
    const accepted = acceptances.filter((_, i) => won[i]);
    if (accepted.length > 0) {
      await tx.insert(pendingStarts).values(
        accepted.map(({ request, taskQueue, trace }) => ({
          workflowId: notificationWorkflowId(request.tenantId, request.notificationId),
          tenantId: request.tenantId,
          taskQueue,
          priority: PRIORITY_KEYS[request.priority],
          request,
          trace,
        })),
      );
      await tx.insert(auditEvents).values(
        accepted.map(({ request, actor }) => ({
          tenantId: request.tenantId,
          actor,
          action: 'notification.created',
          notificationId: request.notificationId,
        })),
      );
    }
    return won;
  });
}

/**
 * Up to `limit` of the task queue's pending starts, highest priority and oldest first, claimed for `claimMs` so other
 * dispatchers pass them by; a claim that runs out (its dispatcher stopped) frees them again. With `above`, only
 * those of a higher priority than it.
 */
export async function claimPendingStarts(
  db: Database,
  taskQueue: string,
  limit: number,
  claimMs: number,
  above?: Priority,
): Promise<PendingStart[]> {
  const claimable = db
    .select({ workflowId: pendingStarts.workflowId })
    .from(pendingStarts)
    .where(
      and(
        eq(pendingStarts.taskQueue, taskQueue),
        or(isNull(pendingStarts.claimedUntil), lt(pendingStarts.claimedUntil, sql`now()`)),
        above ? lt(pendingStarts.priority, PRIORITY_KEYS[above]) : undefined,
      ),
    )
    .orderBy(pendingStarts.priority, pendingStarts.acceptedAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(pendingStarts)
    .set({ claimedUntil: sql`now() + ${`${claimMs} milliseconds`}::interval` })
    .where(inArray(pendingStarts.workflowId, claimable))
    .returning({ request: pendingStarts.request, trace: pendingStarts.trace });
}

/** The pending start of this notification on the task queue, if its workflow has not started yet. */
export async function findPendingStart(
  db: Database,
  taskQueue: string,
  workflowId: string,
): Promise<PendingStart | undefined> {
  const [row] = await db
    .select({ request: pendingStarts.request, trace: pendingStarts.trace })
    .from(pendingStarts)
    .where(and(eq(pendingStarts.workflowId, workflowId), eq(pendingStarts.taskQueue, taskQueue)));
  return row;
}

/** The tenant's pending starts on the task queue that name this recipient. */
export async function pendingStartsNaming(
  db: Database,
  taskQueue: string,
  tenantId: string,
  recipientId: string,
): Promise<PendingStart[]> {
  return db
    .select({ request: pendingStarts.request, trace: pendingStarts.trace })
    .from(pendingStarts)
    .where(
      and(
        eq(pendingStarts.taskQueue, taskQueue),
        eq(pendingStarts.tenantId, tenantId),
        sql`${pendingStarts.request}->'recipients' @> ${JSON.stringify([{ id: recipientId }])}::jsonb`,
      ),
    );
}

export async function deletePendingStarts(db: Database, workflowIds: string[]): Promise<void> {
  if (workflowIds.length > 0) await db.delete(pendingStarts).where(inArray(pendingStarts.workflowId, workflowIds));
}

/**
 * Of these started notifications, those whose workflow has not recorded anything yet: still `accepted`, so
 * still waiting in Temporal for a worker or in their first send.
 */
export async function stillAccepted(
  db: Database,
  started: readonly { tenantId: string; notificationId: string }[],
): Promise<{ tenantId: string; notificationId: string }[]> {
  if (started.length === 0) return [];
  const keys = started.map((s) => [s.tenantId, s.notificationId] as const);
  return db
    .select({ tenantId: notifications.tenantId, notificationId: notifications.id })
    .from(notifications)
    .where(and(inTenantKeys(notifications.tenantId, notifications.id, keys), eq(notifications.status, 'accepted')));
}
