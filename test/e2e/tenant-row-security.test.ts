import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { newApiKey, upsertTenant } from '../../api/tenants';
import type { Database, DatabaseHandle } from '../../db/connect';
import { findRecipient, saveRecipient } from '../../db/recipients';
import {
  auditEvents,
  broadcastChunks,
  broadcasts,
  deliveries,
  devOutbox,
  escalationPolicies,
  inboxMessages,
  notifications,
  pendingStarts,
  preferences,
  recipients,
  templates,
  templateVersions,
  experiments,
  experimentExposures,
  trackedLinks,
  inboxTokenRevocations,
} from '../../db/schema';
import { inTenant } from '../../db/tenant-scope';
import { isolatedDatabase } from '../support/herald';

/**
 * Row-level security under the tenant filters: a query run in a tenant's scope that forgets its
 * `tenant_id` condition still finds and changes only that tenant's rows, on every tenant table.
 */
describe("PostgreSQL's row-level security keeps each tenant's rows to that tenant", () => {
  let database: DatabaseHandle;
  let db: Database;
  const [A, B] = ['rls-a', 'rls-b'];

  /** Tables with a tenant column, as the database itself lists them. */
  let tenantTables: string[];

  beforeAll(async () => {
    database = await isolatedDatabase();
    db = database.db;
    for (const tenant of [A, B]) await seed(db, tenant);
    const { rows } = (await db.execute(
      sql`select table_name from information_schema.columns
          where table_schema = 'public' and column_name = 'tenant_id' order by table_name`,
    )) as unknown as { rows: { table_name: string }[] };
    tenantTables = rows.map((r) => r.table_name);
  }, 60_000);
  afterAll(() => database?.close());

  it('has a policy on every table that holds tenant rows', async () => {
    expect(tenantTables).toHaveLength(19);
    const { rows } = (await db.execute(
      sql`select c.relname, c.relrowsecurity, count(p.polname)::int as policies
          from pg_class c left join pg_policy p on p.polrelid = c.oid
          where c.relname in (${sql.join([...tenantTables, 'tenants'], sql`, `)}) group by c.relname, c.relrowsecurity`,
    )) as unknown as { rows: { relname: string; relrowsecurity: boolean; policies: number }[] };
    expect(rows).toHaveLength(20);
    for (const row of rows)
      expect({ [row.relname]: [row.relrowsecurity, row.policies] }).toEqual({ [row.relname]: [true, 1] });
  });

  it("finds nothing of another tenant's with a query that has no tenant filter", async () => {
    for (const table of [...tenantTables, 'tenants']) {
      const column = table === 'tenants' ? 'id' : 'tenant_id';
      const all = await countBy(db, table, column);
      // Outside a tenant's scope (the dispatcher's, the sweeps') both tenants' rows are there...
      expect({ table, tenants: Object.keys(all).sort() }).toEqual({ table, tenants: [A, B] });
      // ...inside A's, the same unfiltered query sees A's alone.
      const seen = await inTenant(db, A, (tx) => countBy(tx, table, column));
      expect({ table, seen }).toEqual({ table, seen: { [A]: all[A] } });
    }
  });

  it("changes nothing of another tenant's, and writes no row for another tenant", async () => {
    const touched = await inTenant(db, A, async (tx) => {
      const updated = await tx.update(recipients).set({ locale: 'fr' }).returning({ tenantId: recipients.tenantId });
      const deleted = await tx.delete(inboxMessages).returning({ tenantId: inboxMessages.tenantId });
      return [...updated, ...deleted].map((r) => r.tenantId);
    });
    expect(new Set(touched)).toEqual(new Set([A]));
    expect((await findRecipient(db, B, 'r1'))?.locale).toBeNull();
    const refused = await inTenant(db, A, (tx) => saveRecipient(tx, B, 'intruder', { email: 'x@example.com' })).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(String((refused?.cause as Error | undefined)?.message)).toMatch(/row-level security/);
    expect(await findRecipient(db, B, 'intruder')).toBeUndefined();
  });

  it('ends the scope with its transaction', async () => {
    await inTenant(db, A, (tx) => countBy(tx, 'recipients', 'tenant_id'));
    expect(Object.keys(await countBy(db, 'recipients', 'tenant_id')).sort()).toEqual([A, B]);
  });
});

async function countBy(db: Database, table: string, column: string): Promise<Record<string, number>> {
  const { rows } = (await db.execute(
    sql`select ${sql.identifier(column)} as tenant, count(*)::int as n from ${sql.identifier(table)} group by 1`,
  )) as unknown as { rows: { tenant: string; n: number }[] };
  return Object.fromEntries(rows.map((r) => [r.tenant, r.n]));
}

/** One row of the tenant's in each tenant table. */
async function seed(db: Database, tenantId: string) {
  await upsertTenant(db, tenantId, tenantId, newApiKey().key);
  const id = `${tenantId}-${randomUUID()}`;
  const now = new Date();
  await db.insert(recipients).values({ tenantId, id: 'r1', email: `${tenantId}@example.com` });
  await db.insert(preferences).values({ tenantId, recipientId: 'r1', preferences: { enabled: true }, version: 1 });
  await db.insert(escalationPolicies).values({ tenantId, category: 'ops', policy: { steps: [] } as never });
  await db.insert(auditEvents).values({ tenantId, actor: 'admin', action: 'key.created' });
  await db.insert(notifications).values({
    tenantId,
    id,
    status: 'delivered',
    priority: 'normal',
    channels: ['email'],
    requestHash: 'h',
    createdAt: now,
  });
  await db
    .insert(deliveries)
    .values({ tenantId, notificationId: id, recipientId: 'r1', channel: 'email', status: 'sent' });
  await db.insert(pendingStarts).values({
    workflowId: `pending/${id}`,
    tenantId,
    taskQueue: 'rls',
    priority: 3,
    request: {} as never,
  });
  await db.insert(broadcasts).values({
    tenantId,
    id,
    status: 'accepted',
    priority: 'normal',
    channels: ['email'],
    requestHash: 'h',
    recipientCount: 1,
    chunkCount: 1,
    createdAt: now,
  });
  await db.insert(broadcastChunks).values({ tenantId, broadcastId: id, chunk: 0, recipients: [{ id: 'r1' }] });
  await db
    .insert(devOutbox)
    .values({ tenantId, notificationId: id, deliveryKey: `dev-${id}`, channel: 'email', recipient: 'r1', text: 't' });
  await db
    .insert(inboxMessages)
    .values({ tenantId, recipientId: 'r1', notificationId: id, deliveryKey: `inbox-${id}`, text: 't' });
  await db.insert(templates).values({ tenantId, key: 'welcome', liveVersion: 1 });
  await db.insert(templateVersions).values({
    tenantId,
    key: 'welcome',
    version: 1,
    contentHash: 'h',
    content: { sms: { text: 'hi' } },
    references: [],
    missingTranslations: {},
  });
  await db.insert(experiments).values({
    id,
    tenantId,
    templateKey: 'welcome',
    variants: [],
    metric: 'clicked',
    alpha: 0.05,
    minSamples: 100,
    minDurationSeconds: 0,
    state: 'running',
  });
  await db.insert(experimentExposures).values({ tenantId, experimentId: id, recipientId: 'r1', variant: 'a' });
  await db.insert(trackedLinks).values({
    id: `l-${id}`.slice(0, 16),
    tenantId,
    notificationId: id,
    recipientId: 'r1',
    channel: 'sms',
    url: 'https://example.com/',
  });
  await db.insert(inboxTokenRevocations).values({ tenantId, recipientHash: 'r1', revokedAt: now });
}
