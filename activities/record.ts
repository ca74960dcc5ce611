import { sql } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { notificationRow } from '../db/notifications';
import { deliveries, notifications } from '../db/schema';
import type { Delivery, NotificationSnapshot } from '../domain/notification';

/** Writes the workflow's view of a notification to the database, where it outlives the workflow. */
export function createRecordNotification(db: Database) {
  return async function recordNotification(snapshot: NotificationSnapshot): Promise<void> {
    const now = new Date();
    await db.transaction(async (tx) => {
      await tx
        .insert(notifications)
        .values(notificationRow(snapshot, now))
        .onConflictDoUpdate({
          target: [notifications.tenantId, notifications.id],
          set: {
            status: snapshot.status,
            acknowledgement: snapshot.acknowledgement ?? null,
            timeline: snapshot.timeline,
            updatedAt: now,
          },
        });
      await upsertDeliveries(tx, snapshot.tenantId, snapshot.notificationId, snapshot.deliveries);
    });
  };
}

type Writer = Pick<Database, 'insert'>;

/** Inserts or refreshes delivery rows; the caller's view is the newest. */
export async function upsertDeliveries(db: Writer, tenantId: string, notificationId: string, list: Delivery[]) {
  if (list.length === 0) return;
  const now = new Date();
  await db
    .insert(deliveries)
    .values(
      list.map((d) => ({
        tenantId,
        notificationId,
        recipientId: d.recipientId,
        channel: d.channel,
        step: d.step ?? 0,
        status: d.status,
        provider: d.provider,
        attempts: d.attempts,
        providerMessageId: d.providerMessageId,
        error: d.error,
        providersTried: d.providersTried,
        details: d.details,
        updatedAt: now,
      })),
    )
    .onConflictDoUpdate({
      target: [
        deliveries.tenantId,
        deliveries.notificationId,
        deliveries.recipientId,
        deliveries.channel,
        deliveries.step,
      ],
      set: {
        status: sql`excluded.status`,
        provider: sql`excluded.provider`,
        attempts: sql`excluded.attempts`,
        providerMessageId: sql`excluded.provider_message_id`,
        error: sql`excluded.error`,
        providersTried: sql`excluded.providers_tried`,
        details: sql`excluded.details`,
        updatedAt: now,
      },
    });
}
