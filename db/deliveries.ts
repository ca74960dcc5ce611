import { and, count, eq, inArray } from 'drizzle-orm';
import type { Database } from './connect';
import { deliveries } from './schema';

/** The recorded deliveries of some recipients of one notification (or broadcast) on one channel. */
export function recordedDeliveries(
  db: Database,
  key: { tenantId: string; notificationId: string; channel: string },
  recipientIds: string[],
) {
  return db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.tenantId, key.tenantId),
        eq(deliveries.notificationId, key.notificationId),
        eq(deliveries.channel, key.channel),
        inArray(deliveries.recipientId, recipientIds),
      ),
    );
}

/** One delivery: a recipient's send on a channel at a step of the plan. */
export async function findDelivery(
  db: Database,
  key: { tenantId: string; notificationId: string; recipientId: string; channel: string; step?: number },
) {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.tenantId, key.tenantId),
        eq(deliveries.notificationId, key.notificationId),
        eq(deliveries.recipientId, key.recipientId),
        eq(deliveries.channel, key.channel),
        eq(deliveries.step, key.step ?? 0),
      ),
    );
  return row;
}

/** The recorded status of a tenant's deliveries with these provider message ids, by id. */
export async function statusesByProviderId(db: Database, tenantId: string, providerMessageIds: string[]) {
  const rows = await db
    .select({ id: deliveries.providerMessageId, status: deliveries.status })
    .from(deliveries)
    .where(and(eq(deliveries.tenantId, tenantId), inArray(deliveries.providerMessageId, providerMessageIds)));
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** How many of a notification's (or broadcast's) deliveries are in each status. */
export function countDeliveriesByStatus(db: Database, tenantId: string, notificationId: string) {
  return db
    .select({ status: deliveries.status, n: count() })
    .from(deliveries)
    .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, notificationId)))
    .groupBy(deliveries.status);
}

/** How many of the tenant's deliveries are in each status, per channel. */
export function countDeliveriesByChannel(db: Database, tenantId: string) {
  return db
    .select({ channel: deliveries.channel, status: deliveries.status, n: count() })
    .from(deliveries)
    .where(eq(deliveries.tenantId, tenantId))
    .groupBy(deliveries.channel, deliveries.status);
}
