import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { BroadcastRequest } from '../domain/broadcast';
import { PRIORITY_KEYS } from '../domain/delivery-policy';
import type { NotificationRequest, Priority } from '../domain/notification';
import { notificationWorkflowId } from '../workflows/definitions';
import type { Database } from './connect';
import { notifications, pendingStarts } from './schema';
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

/** A broadcast waiting for its workflow to start. */
export interface PendingBroadcastStart {
  broadcast: BroadcastRequest;
  trace: Record<string, string> | null;
}

/** The workflow types a pending start starts, as its row names them. */
const NOTIFICATION_WORKFLOW_TYPE = 'notification';
export const BROADCAST_WORKFLOW_TYPE = 'broadcastWorkflow';

const asNotification = (row: { request: unknown; trace: Record<string, string> | null }): PendingStart => ({
  request: row.request as NotificationRequest,
  trace: row.trace,
});

const asPending = (row: {
  workflowType: string;
  request: unknown;
  trace: Record<string, string> | null;
}): PendingStart | PendingBroadcastStart =>
  row.workflowType === BROADCAST_WORKFLOW_TYPE
    ? { broadcast: row.request as BroadcastRequest, trace: row.trace }
    : asNotification(row);

/**
 * Accepts notifications in one statement: each one's row, pending start and audit event. An entry is false
 * when a notification with its id was accepted first (the same key, concurrently or earlier in the list).
 * One statement, not an insert per table in a transaction: on PGlite it takes half the time per accept
 * (the statements and their round trips, not the rows, were most of the work).
 */
export async function acceptNotifications(db: Database, acceptances: Acceptance[]): Promise<boolean[]> {
  const offered = acceptances.map(({ request, taskQueue, actor, trace }, ord) => ({
    ord,
    workflow_id: notificationWorkflowId(request.tenantId, request.notificationId),
    tenant_id: request.tenantId,
    id: request.notificationId,
    priority: request.priority,
    channels: request.channels,
    category: request.category,
    request_hash: request.requestHash,
    created_at: request.createdAt,
    task_queue: taskQueue,
    priority_key: PRIORITY_KEYS[request.priority],
    request,
    trace,
    actor,
  }));
  // Of ids repeated in the list, the first is inserted (in `ord` order) and the first is the one that won.
  const result = await db.execute(sql`
    with offered as (
      select * from jsonb_to_recordset(${JSON.stringify(offered)}::jsonb) as o(
        ord int, workflow_id text, tenant_id text, id text, priority text, channels jsonb, category text,
        request_hash text, created_at timestamptz, task_queue text, priority_key int, request jsonb,
        trace jsonb, actor text)
    ),
    inserted as (
      insert into notifications (tenant_id, id, status, priority, channels, category, request_hash, created_at, updated_at)
      select tenant_id, id, 'accepted', priority, channels, category, request_hash, created_at, now()
      from offered order by ord
      on conflict do nothing
      returning tenant_id, id
    ),
    won as (
      select distinct on (tenant_id, id) offered.*
      from offered join inserted using (tenant_id, id)
      order by tenant_id, id, ord
    ),
    started as (
      insert into pending_starts (workflow_id, tenant_id, task_queue, priority, request, trace)
      select workflow_id, tenant_id, task_queue, priority_key, request, trace from won
    ),
    audited as (
      insert into audit_events (tenant_id, actor, action, notification_id)
      select tenant_id, actor, 'notification.created', id from won
    )
    select ord from won`);
  const won = new Set((result as unknown as { rows: { ord: number }[] }).rows.map((row) => row.ord));
  return acceptances.map((_, ord) => won.has(ord));
}

/**
 * Up to `limit` of the task queue's pending starts, highest priority and oldest first, claimed for `claimMs` so other
 * dispatchers pass them by; a claim that runs out (its dispatcher stopped) frees them again. With `above`, only
 * those of a higher priority than it. Notifications only, unless `broadcasts` asks for broadcasts' starts too.
 */
export function claimPendingStarts(
  db: Database,
  taskQueue: string,
  limit: number,
  claimMs: number,
  options?: { above?: Priority; broadcasts?: false },
): Promise<PendingStart[]>;
export function claimPendingStarts(
  db: Database,
  taskQueue: string,
  limit: number,
  claimMs: number,
  options: { above?: Priority; broadcasts: true },
): Promise<(PendingStart | PendingBroadcastStart)[]>;
export async function claimPendingStarts(
  db: Database,
  taskQueue: string,
  limit: number,
  claimMs: number,
  { above, broadcasts = false }: { above?: Priority; broadcasts?: boolean } = {},
): Promise<(PendingStart | PendingBroadcastStart)[]> {
  const claimable = db
    .select({ workflowId: pendingStarts.workflowId })
    .from(pendingStarts)
    .where(
      and(
        eq(pendingStarts.taskQueue, taskQueue),
        or(isNull(pendingStarts.claimedUntil), lt(pendingStarts.claimedUntil, sql`now()`)),
        above ? lt(pendingStarts.priority, PRIORITY_KEYS[above]) : undefined,
        inArray(
          pendingStarts.workflowType,
          broadcasts ? [NOTIFICATION_WORKFLOW_TYPE, BROADCAST_WORKFLOW_TYPE] : [NOTIFICATION_WORKFLOW_TYPE],
        ),
      ),
    )
    .orderBy(pendingStarts.priority, pendingStarts.acceptedAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(pendingStarts)
    .set({ claimedUntil: sql`now() + ${`${claimMs} milliseconds`}::interval` })
    .where(inArray(pendingStarts.workflowId, claimable))
    .returning({
      workflowType: pendingStarts.workflowType,
      request: pendingStarts.request,
      trace: pendingStarts.trace,
    });
  return rows.map(asPending);
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
    .where(
      and(
        eq(pendingStarts.workflowId, workflowId),
        eq(pendingStarts.taskQueue, taskQueue),
        eq(pendingStarts.workflowType, NOTIFICATION_WORKFLOW_TYPE),
      ),
    );
  return row && asNotification(row);
}

/** The pending start of this broadcast on the task queue, if its workflow has not started yet. */
export async function findPendingBroadcastStart(
  db: Database,
  taskQueue: string,
  workflowId: string,
): Promise<PendingBroadcastStart | undefined> {
  const [row] = await db
    .select({ request: pendingStarts.request, trace: pendingStarts.trace })
    .from(pendingStarts)
    .where(
      and(
        eq(pendingStarts.workflowId, workflowId),
        eq(pendingStarts.taskQueue, taskQueue),
        eq(pendingStarts.workflowType, BROADCAST_WORKFLOW_TYPE),
      ),
    );
  return row && { broadcast: row.request as BroadcastRequest, trace: row.trace };
}

/** The tenant's pending starts on the task queue that name this recipient. */
export async function pendingStartsNaming(
  db: Database,
  taskQueue: string,
  tenantId: string,
  recipientId: string,
): Promise<PendingStart[]> {
  const rows = await db
    .select({ request: pendingStarts.request, trace: pendingStarts.trace })
    .from(pendingStarts)
    .where(
      and(
        eq(pendingStarts.taskQueue, taskQueue),
        eq(pendingStarts.tenantId, tenantId),
        eq(pendingStarts.workflowType, NOTIFICATION_WORKFLOW_TYPE),
        sql`${pendingStarts.request}->'recipients' @> ${JSON.stringify([{ id: recipientId }])}::jsonb`,
      ),
    );
  return rows.map(asNotification);
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
