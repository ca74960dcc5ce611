import { asc, eq } from 'drizzle-orm';
import type { InboxFeed } from '../domain/inbox';
import type { Database } from './connect';
import { tenants } from './schema';

export type TenantRow = typeof tenants.$inferSelect;
type LimitColumns = Partial<Pick<TenantRow, 'name' | 'ratePerSecond' | 'burst' | 'dailyQuota'>>;

/** The new tenant, or undefined when the id is taken. */
export async function insertTenant(db: Database, tenant: { id: string; name: string } & LimitColumns) {
  const [row] = await db.insert(tenants).values(tenant).onConflictDoNothing().returning();
  return row;
}

export function listTenants(db: Database): Promise<TenantRow[]> {
  return db.select().from(tenants).orderBy(asc(tenants.id));
}

export async function findTenant(db: Database, id: string): Promise<TenantRow | undefined> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  return row;
}

export async function updateTenant(db: Database, id: string, changes: LimitColumns): Promise<TenantRow | undefined> {
  const [row] = await db.update(tenants).set(changes).where(eq(tenants.id, id)).returning();
  return row;
}

/** Where the tenant's webhook channel posts, and the secret that signs it. */
export async function findWebhookEndpoint(db: Database, tenantId: string) {
  const [row] = await db
    .select({ url: tenants.webhookUrl, secret: tenants.webhookSecret })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  return row;
}

export async function saveWebhookEndpoint(db: Database, tenantId: string, endpoint: { url: string; secret: string }) {
  await db
    .update(tenants)
    .set({ webhookUrl: endpoint.url, webhookSecret: endpoint.secret })
    .where(eq(tenants.id, tenantId));
}

/** How the tenant's templates render: the locale they fall back to, and whether links count clicks. */
export interface TemplateSettings {
  defaultLocale?: string;
  clickTracking: boolean;
}

export async function findTemplateSettings(db: Database, tenantId: string): Promise<TemplateSettings> {
  const [row] = await db
    .select({ defaultLocale: tenants.defaultLocale, clickTracking: tenants.clickTracking })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  return {
    clickTracking: row?.clickTracking ?? true,
    ...(row?.defaultLocale ? { defaultLocale: row.defaultLocale } : {}),
  };
}

export async function saveTemplateSettings(db: Database, tenantId: string, settings: Partial<TemplateSettings>) {
  await db
    .update(tenants)
    .set({
      ...(settings.defaultLocale !== undefined ? { defaultLocale: settings.defaultLocale } : {}),
      ...(settings.clickTracking !== undefined ? { clickTracking: settings.clickTracking } : {}),
    })
    .where(eq(tenants.id, tenantId));
}

/** The tenant's inbox tabs, in their order. */
export async function findInboxFeeds(db: Database, tenantId: string): Promise<InboxFeed[]> {
  const [row] = await db.select({ feeds: tenants.inboxFeeds }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.feeds ?? [];
}

export async function saveInboxFeeds(db: Database, tenantId: string, feeds: InboxFeed[]): Promise<void> {
  await db.update(tenants).set({ inboxFeeds: feeds }).where(eq(tenants.id, tenantId));
}
