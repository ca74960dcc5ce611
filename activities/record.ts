import { sql } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { notificationRow } from '../db/notifications';
import { deliveries, notifications } from '../db/schema';
import { GroupCommit } from '../domain/group-commit';
import type { Delivery, NotificationSnapshot } from '../domain/notification';

/** What the workflow knows of a notification: its row and its deliveries, or some deliveries alone. */
interface RecordWrite {
  snapshot?: NotificationSnapshot;
  tenantId: string;
  notificationId: string;
  deliveries: Delivery[];
}

/**
 * Writes the workflows' view of their notifications to the database, where it outlives them. Writes made
 * at once by activities of many workflows share a transaction: a drain otherwise spends four statements
 * on each notification, and the embedded database runs on the thread that serves the API.
 */
export function createRecords(db: Database) {
  const writes = new GroupCommit<RecordWrite, void>((group) => writeRecords(db, group));
  return {
    recordNotification: (snapshot: NotificationSnapshot): Promise<void> => {
      const { tenantId, notificationId, deliveries: list } = snapshot;
      return writes.add({ snapshot, tenantId, notificationId, deliveries: list });
    },
    recordDeliveries: (tenantId: string, notificationId: string, list: Delivery[]): Promise<void> =>
      writes.add({ tenantId, notificationId, deliveries: list }),
  };
}

export type Records = ReturnType<typeof createRecords>;

type Writer = Pick<Database, 'insert'>;

async function writeRecords(db: Database, group: RecordWrite[]): Promise<void[]> {
  const now = new Date();
  // The same row twice in one upsert is an error; the later write is the workflow's newer view.
  const rows = newestByKey(
    group.flatMap((w) => (w.snapshot ? [notificationRow(w.snapshot, now)] : [])),
    (row) => `${row.tenantId}\n${row.id}`,
  );
  const deliveryRows = newestByKey(
    group.flatMap((w) => w.deliveries.map((d) => deliveryRow(w.tenantId, w.notificationId, d, now))),
    (row) => [row.tenantId, row.notificationId, row.recipientId, row.channel, row.step].join('\n'),
  );
  const write = async (tx: Writer) => {
    if (rows.length > 0)
      await tx
        .insert(notifications)
        .values(rows)
        .onConflictDoUpdate({
          target: [notifications.tenantId, notifications.id],
          set: {
            status: sql`excluded.status`,
            acknowledgement: sql`excluded.acknowledgement`,
            timeline: sql`excluded.timeline`,
            updatedAt: now,
          },
        });
    await upsertDeliveryRows(tx, deliveryRows, now);
  };
  if (rows.length > 0 && deliveryRows.length > 0) await db.transaction(write);
  else await write(db);
  return group.map(() => undefined);
}

function newestByKey<T>(list: T[], key: (item: T) => string): T[] {
  return [...new Map(list.map((item) => [key(item), item])).values()];
}

type DeliveryRow = typeof deliveries.$inferInsert & { step: number };

function deliveryRow(tenantId: string, notificationId: string, d: Delivery, now: Date): DeliveryRow {
  return {
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
  };
}

/** Inserts or refreshes delivery rows; the caller's view is the newest. */
export async function upsertDeliveries(db: Writer, tenantId: string, notificationId: string, list: Delivery[]) {
  const now = new Date();
  await upsertDeliveryRows(
    db,
    list.map((d) => deliveryRow(tenantId, notificationId, d, now)),
    now,
  );
}

async function upsertDeliveryRows(db: Writer, rows: DeliveryRow[], now: Date) {
  if (rows.length === 0) return;
  await db
    .insert(deliveries)
    .values(rows)
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
