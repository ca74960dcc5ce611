import { and, eq, inArray } from 'drizzle-orm';
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
