import { and, eq } from 'drizzle-orm';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/connect';
import { inTenant } from '../../db/tenant-scope';
import { deliveries, notifications } from '../../db/schema';
import { recordEngagement } from '../../db/experiments';
import { engagementOf } from '../../domain/experiments/experiment';
import {
  advanceByReceipt,
  overallStatus,
  receiptOutcome,
  type Delivery,
  type Receipt,
} from '../../domain/notification';
import { acceptToDelivered, receiptsReceived, secondsSince } from '../../observability/metrics';
import { notificationWorkflowId, receiptSignal } from '../../workflows/definitions';

/**
 * Hands a provider's receipt to the notification it belongs to: a signal while the workflow runs, the
 * record once it has closed. An id Herald does not know is logged and acknowledged, so the provider
 * does not retry it forever. Returns the notification's id when the receipt matched one.
 */
export async function deliverReceipt(
  db: Database,
  temporal: Client,
  receipt: Receipt,
  log: FastifyBaseLogger,
): Promise<string | undefined> {
  const [delivery] = await db
    .select({
      tenantId: deliveries.tenantId,
      notificationId: deliveries.notificationId,
      channel: deliveries.channel,
      status: deliveries.status,
      recipientId: deliveries.recipientId,
      details: deliveries.details,
      priority: notifications.priority,
      createdAt: notifications.createdAt,
    })
    .from(deliveries)
    // A broadcast's deliveries have no notification row or workflow of their own.
    .leftJoin(
      notifications,
      and(eq(notifications.tenantId, deliveries.tenantId), eq(notifications.id, deliveries.notificationId)),
    )
    .where(eq(deliveries.providerMessageId, receipt.providerMessageId));
  receiptsReceived.inc({ status: receipt.status });
  if (!delivery) {
    log.warn({ receipt_status: receipt.status }, 'receipt for a message Herald does not know; acknowledged');
    return undefined;
  }
  if (!delivery.createdAt || !delivery.priority) {
    // A broadcast's delivery: no workflow waits for it, and its totals are counted when asked for.
    await applyLateReceipt(db, delivery, receipt, undefined);
    return delivery.notificationId;
  }

  const handle = temporal.workflow.getHandle(notificationWorkflowId(delivery.tenantId, delivery.notificationId));
  try {
    await handle.signal(receiptSignal, receipt);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    // The workflow has closed: a late receipt (a bounce days later) still updates the record.
    await applyLateReceipt(db, delivery, receipt, delivery.notificationId);
  }
  const engagement = engagementOf(receiptOutcome(receipt).status);
  if (delivery.details?.experimentId && engagement)
    await inTenant(db, delivery.tenantId, (tx) =>
      recordEngagement(tx, delivery.tenantId, delivery.details!.experimentId!, delivery.recipientId, engagement),
    );
  if (receipt.status === 'delivered') {
    acceptToDelivered.observe(
      { channel: delivery.channel, priority: delivery.priority },
      secondsSince(delivery.createdAt),
    );
  }
  return delivery.notificationId;
}

/** Updates the delivery's record, and the notification's status when it belongs to one. */
async function applyLateReceipt(
  db: Database,
  current: { tenantId: string; status: string },
  receipt: Receipt,
  notificationId: string | undefined,
): Promise<void> {
  const { tenantId } = current;
  const outcome = advanceByReceipt(current as Pick<Delivery, 'status'>, receipt);
  if (!outcome) return;
  // In the tenant's scope: the provider's message id found the delivery, and nothing of another tenant's moves.
  await inTenant(db, tenantId, async (tx) => {
    await tx
      .update(deliveries)
      .set({ ...outcome, error: outcome.error ?? null, updatedAt: new Date() })
      .where(eq(deliveries.providerMessageId, receipt.providerMessageId));
    if (!notificationId) return;
    const rows = await tx
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, notificationId)));
    await tx
      .update(notifications)
      .set({ status: overallStatus(rows as Pick<Delivery, 'status'>[]), updatedAt: new Date() })
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId)));
  });
}
