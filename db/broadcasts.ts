import { and, desc, eq } from 'drizzle-orm';
import { broadcastWorkflowId, chunksOf, type BroadcastRequest, type BroadcastStatus } from '../domain/broadcast';
import { PRIORITY_KEYS } from '../domain/delivery-policy';
import type { Contact } from '../domain/notification';
import { insertAuditEvent } from './audit-events';
import type { Database } from './connect';
import { BROADCAST_WORKFLOW_TYPE } from './pending-starts';
import { broadcastChunks, broadcasts, pendingStarts } from './schema';

/** The tenant's broadcast with this id, if there is one. */
export async function findBroadcast(db: Database, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.tenantId, tenantId), eq(broadcasts.id, id)));
  return row;
}

export interface BroadcastAcceptance {
  input: BroadcastRequest;
  /** The recipients in chunks, one chunk per child workflow. */
  recipients: Contact[][];
  requestHash: string;
  /** The deployment's task queue: its dispatchers start the workflow. */
  taskQueue: string;
  /** The audit event's actor: the key that made the request. */
  actor: string;
  /** The accepting request's trace, for the workflow start to join. */
  trace?: Record<string, string>;
}

/**
 * Accepts a broadcast in one transaction: its row, its recipients in chunks, the pending start of its
 * workflow and its audit event, so a broadcast is either stored and bound to start, or not stored at all.
 * False when a broadcast with this id was accepted first (the same key, concurrently or earlier).
 */
export async function acceptBroadcast(db: Database, acceptance: BroadcastAcceptance): Promise<boolean> {
  const { input, recipients, requestHash, taskQueue, actor, trace } = acceptance;
  const { tenantId, broadcastId } = input;
  return db.transaction(async (tx) => {
    if (!(await insertBroadcast(tx, input, recipients, requestHash))) return false;
    await tx.insert(pendingStarts).values({
      workflowId: broadcastWorkflowId(tenantId, broadcastId),
      tenantId,
      taskQueue,
      priority: PRIORITY_KEYS[input.priority],
      workflowType: BROADCAST_WORKFLOW_TYPE,
      request: input,
      trace,
    });
    await insertAuditEvent(tx, { tenantId, actor, action: 'broadcast.created', notificationId: broadcastId });
    return true;
  });
}

/**
 * A broadcast's row and its recipients in chunks, in one transaction, with no pending start: for a caller
 * that starts the workflow itself. False when a broadcast with this id was stored first.
 */
export async function storeBroadcast(
  db: Database,
  input: BroadcastRequest,
  recipients: Contact[][],
  requestHash: string,
): Promise<boolean> {
  return db.transaction((tx) => insertBroadcast(tx, input, recipients, requestHash));
}

async function insertBroadcast(
  tx: Database,
  input: BroadcastRequest,
  recipients: Contact[][],
  requestHash: string,
): Promise<boolean> {
  const { tenantId, broadcastId } = input;
  const inserted = await tx
    .insert(broadcasts)
    .values({
      tenantId,
      id: broadcastId,
      status: 'accepted',
      priority: input.priority,
      channels: input.channels,
      category: input.category,
      requestHash,
      recipientCount: recipients.reduce((n, chunk) => n + chunk.length, 0),
      chunkCount: recipients.length,
      createdAt: new Date(input.createdAt),
    })
    .onConflictDoNothing()
    .returning({ id: broadcasts.id });
  if (inserted.length === 0) return false;
  const rows = recipients.map((chunk, i) => ({ tenantId, broadcastId, chunk: i, recipients: chunk }));
  // Groups of rows keep each statement well under PostgreSQL's parameter limit.
  for (const group of chunksOf(rows, 1000)) await tx.insert(broadcastChunks).values(group);
  return true;
}

/** Broadcasts not yet ended on record, newest first: running, or waiting to start. */
export function openBroadcasts(db: Database, limit: number): Promise<{ tenantId: string; id: string }[]> {
  return db
    .select({ tenantId: broadcasts.tenantId, id: broadcasts.id })
    .from(broadcasts)
    .where(eq(broadcasts.status, 'accepted'))
    .orderBy(desc(broadcasts.createdAt))
    .limit(limit);
}

/**
 * Records the end of a broadcast that is still open on record, and deletes its recipients' contact
 * details with it. False when it had ended already.
 */
export async function endOpenBroadcast(
  db: Database,
  tenantId: string,
  id: string,
  status: BroadcastStatus,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const ended = await tx
      .update(broadcasts)
      .set({ status, updatedAt: new Date() })
      .where(and(eq(broadcasts.tenantId, tenantId), eq(broadcasts.id, id), eq(broadcasts.status, 'accepted')))
      .returning({ id: broadcasts.id });
    if (ended.length === 0) return false;
    await tx
      .delete(broadcastChunks)
      .where(and(eq(broadcastChunks.tenantId, tenantId), eq(broadcastChunks.broadcastId, id)));
    return true;
  });
}
