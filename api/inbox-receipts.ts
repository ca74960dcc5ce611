import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connect';
import { statusesByProviderId } from '../db/deliveries';
import { inTenant } from '../db/tenant-scope';
import { inboxMessageId } from '../domain/inbox';
import { advanceByReceipt, type DeliveryStatus } from '../domain/notification';
import { pool } from '../domain/pool';
import { notificationWorkflowId, receiptSignal } from '../workflows/definitions';
import { deliverReceipt } from './receipts/deliver-receipt';

/** Receipts handed over at once, and at most per change (a "mark all read" of a long inbox). */
const RECEIPTS_AT_ONCE = 8;
export const MAX_READ_RECEIPTS = 500;

/**
 * Reading an in-app message is its delivery's `opened` receipt (so a fallback `unless: read` is not
 * sent), using one of its actions its `clicked` receipt. Through the record, as a provider's receipt
 * goes; a read that beats the delivery's record (it is written just after the message is stored) goes to
 * the notification's workflow, which keeps receipts for sends it has not heard back from yet. A delivery
 * already at that status gets none (a message read, made unread and read again). A receipt that cannot be
 * handed over is logged: the read stands.
 */
export async function sendInboxReceipts(
  db: Database,
  temporal: Client,
  tenantId: string,
  read: readonly { id: number; notificationId: string }[],
  status: 'opened' | 'clicked',
  log: FastifyBaseLogger,
): Promise<void> {
  const first = read.slice(0, MAX_READ_RECEIPTS);
  const recorded = await inTenant(db, tenantId, (tx) =>
    statusesByProviderId(
      tx,
      tenantId,
      first.map((m) => inboxMessageId(m.id)),
    ),
  );
  const due = first.filter((m) => {
    const at = recorded.get(inboxMessageId(m.id));
    return !at || advanceByReceipt({ status: at as DeliveryStatus }, { providerMessageId: '', status }) !== undefined;
  });
  await pool(due.length, RECEIPTS_AT_ONCE, async (i) => {
    const { id, notificationId } = due[i]!;
    const receipt = { providerMessageId: inboxMessageId(id), status };
    try {
      if ((await deliverReceipt(db, temporal, receipt, log)) !== undefined) return;
      await temporal.workflow
        .getHandle(notificationWorkflowId(tenantId, notificationId))
        .signal(receiptSignal, receipt);
    } catch (error) {
      // Closed, with no record of the send: nothing is waiting for it.
      if (error instanceof WorkflowNotFoundError) return;
      log.warn({ err: error, inbox_message: id, status }, 'could not hand over an in-app receipt');
    }
  });
}
