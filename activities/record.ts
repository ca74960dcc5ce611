import { sql } from 'drizzle-orm';
import type { Database } from '../db/connect';
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
 * at once by activities of many workflows share a statement: a drain otherwise spends four statements
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

async function writeRecords(db: Database, group: RecordWrite[]): Promise<void[]> {
  // The same row twice in one upsert is an error; the later write is the workflow's newer view.
  const rows = newestByKey(
    group.flatMap((w) => (w.snapshot ? [notificationRow(w.snapshot)] : [])),
    (row) => `${row.tenant_id}\n${row.id}`,
  );
  const deliveryRows = newestByKey(
    group.flatMap((w) => w.deliveries.map((d) => deliveryRow(w.tenantId, w.notificationId, d))),
    (row) => [row.tenant_id, row.notification_id, row.recipient_id, row.channel, row.step].join('\n'),
  );
  await upsertRecords(db, rows, deliveryRows);
  return group.map(() => undefined);
}

function newestByKey<T>(list: T[], key: (item: T) => string): T[] {
  return [...new Map(list.map((item) => [key(item), item])).values()];
}

/** A notification's row, its columns named as in the table, as the workflow knows it. */
function notificationRow(snapshot: NotificationSnapshot) {
  return {
    tenant_id: snapshot.tenantId,
    id: snapshot.notificationId,
    status: snapshot.status,
    priority: snapshot.priority,
    channels: snapshot.channels,
    category: snapshot.category,
    request_hash: snapshot.requestHash,
    acknowledgement: snapshot.acknowledgement,
    timeline: snapshot.timeline,
    created_at: snapshot.createdAt,
  };
}

type NotificationRow = ReturnType<typeof notificationRow>;

/** A delivery's columns, named as in the table. */
interface DeliveryRow {
  tenant_id: string;
  notification_id: string;
  recipient_id: string;
  channel: string;
  step: number;
  status: string;
  provider?: string;
  attempts: number;
  provider_message_id?: string;
  error?: string;
  providers_tried?: string[];
  details?: Delivery['details'];
}

function deliveryRow(tenantId: string, notificationId: string, d: Delivery): DeliveryRow {
  return {
    tenant_id: tenantId,
    notification_id: notificationId,
    recipient_id: d.recipientId,
    channel: d.channel,
    step: d.step ?? 0,
    status: d.status,
    provider: d.provider,
    attempts: d.attempts,
    provider_message_id: d.providerMessageId,
    error: d.error,
    providers_tried: d.providersTried,
    details: d.details,
  };
}

/** Inserts or refreshes delivery rows; the caller's view is the newest. */
export async function upsertDeliveries(db: Database, tenantId: string, notificationId: string, list: Delivery[]) {
  await upsertRecords(
    db,
    [],
    list.map((d) => deliveryRow(tenantId, notificationId, d)),
  );
}

/**
 * Inserts or refreshes notification rows and delivery rows in one statement: on the embedded database a
 * statement, not a row, is most of a write's cost, and one statement needs no transaction around it.
 */
async function upsertRecords(db: Database, rows: NotificationRow[], deliveryRows: DeliveryRow[]): Promise<void> {
  if (rows.length === 0 && deliveryRows.length === 0) return;
  await db.execute(sql`
    with written_notifications as (
      insert into notifications (tenant_id, id, status, priority, channels, category, request_hash, acknowledgement,
        timeline, created_at, updated_at)
      select tenant_id, id, status, priority, channels, category, request_hash, acknowledgement, timeline, created_at, now()
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as n(
        tenant_id text, id text, status text, priority text, channels jsonb, category text, request_hash text,
        acknowledgement jsonb, timeline jsonb, created_at timestamptz)
      on conflict (tenant_id, id) do update set
        status = excluded.status, acknowledgement = excluded.acknowledgement, timeline = excluded.timeline,
        updated_at = excluded.updated_at
    )
    insert into deliveries (tenant_id, notification_id, recipient_id, channel, step, status, provider, attempts,
      provider_message_id, error, providers_tried, details, updated_at)
    select tenant_id, notification_id, recipient_id, channel, step, status, provider, attempts, provider_message_id,
      error, providers_tried, details, now()
    from jsonb_to_recordset(${JSON.stringify(deliveryRows)}::jsonb) as d(
      tenant_id text, notification_id text, recipient_id text, channel text, step int, status text, provider text,
      attempts int, provider_message_id text, error text, providers_tried jsonb, details jsonb)
    on conflict (tenant_id, notification_id, recipient_id, channel, step) do update set
      status = excluded.status, provider = excluded.provider, attempts = excluded.attempts,
      provider_message_id = excluded.provider_message_id, error = excluded.error,
      providers_tried = excluded.providers_tried, details = excluded.details, updated_at = excluded.updated_at`);
}
