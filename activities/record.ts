import { sql } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { deliveries, notifications } from '../db/schema';
import type { NotificationSnapshot } from '../domain/notification';

/** Writes the workflow's view of a notification to the database, where it outlives the workflow. */
export function createRecordNotification(db: Database) {
  return async function recordNotification(snapshot: NotificationSnapshot): Promise<void> {
    const now = new Date();
    await db.transaction(async (tx) => {
      await tx
        .insert(notifications)
        .values({
          tenantId: snapshot.tenantId,
          id: snapshot.notificationId,
          status: snapshot.status,
          priority: snapshot.priority,
          channels: snapshot.channels,
          category: snapshot.category,
          requestHash: snapshot.requestHash,
          createdAt: new Date(snapshot.createdAt),
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: [notifications.tenantId, notifications.id],
          set: { status: snapshot.status, updatedAt: now },
        });
      if (snapshot.deliveries.length === 0) return;
      await tx
        .insert(deliveries)
        .values(
          snapshot.deliveries.map((d) => ({
            tenantId: snapshot.tenantId,
            notificationId: snapshot.notificationId,
            recipientId: d.recipientId,
            channel: d.channel,
            status: d.status,
            provider: d.provider,
            attempts: d.attempts,
            providerMessageId: d.providerMessageId,
            error: d.error,
            updatedAt: now,
          })),
        )
        .onConflictDoUpdate({
          target: [deliveries.tenantId, deliveries.notificationId, deliveries.recipientId, deliveries.channel],
          set: {
            status: sql`excluded.status`,
            provider: sql`excluded.provider`,
            attempts: sql`excluded.attempts`,
            providerMessageId: sql`excluded.provider_message_id`,
            error: sql`excluded.error`,
            updatedAt: now,
          },
        });
    });
  };
}
