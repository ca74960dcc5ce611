import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from './connect';
import { apiKeys, tenants } from './schema';

export function insertKey(
  db: Database,
  key: { id: string; tenantId: string; name: string; hash: string; scopes: string[] },
) {
  return db.insert(apiKeys).values(key).returning({ createdAt: apiKeys.createdAt });
}

/** Creates the tenant if it is new, and lets this key hash in unless it already does. */
export async function upsertTenantWithKey(
  db: Database,
  tenant: { id: string; name: string },
  key: { id: string; hash: string; scopes: string[] },
): Promise<void> {
  await db
    .insert(tenants)
    .values(tenant)
    .onConflictDoUpdate({ target: tenants.id, set: { name: tenant.name } });
  await db
    .insert(apiKeys)
    .values({ ...key, tenantId: tenant.id, name: 'default' })
    .onConflictDoNothing();
}

export function listKeys(db: Database, tenantId: string) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      scopes: apiKeys.scopes,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.tenantId, tenantId))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

/** False when the tenant has no such key; revoking a revoked key again keeps its first revocation time. */
export async function revokeKey(db: Database, tenantId: string, keyId: string): Promise<boolean> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)))
    .returning({ id: apiKeys.id });
  return revoked.length > 0;
}

/** The live key with this hash, its tenant and the tenant's limits. */
export async function findLiveKey(db: Database, hash: string) {
  const [row] = await db
    .select({
      tenantId: apiKeys.tenantId,
      keyId: apiKeys.id,
      scopes: apiKeys.scopes,
      ratePerSecond: tenants.ratePerSecond,
      burst: tenants.burst,
      dailyQuota: tenants.dailyQuota,
    })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)));
  return row;
}

/**
 * Hashes of the live keys from before keys had ids of their own (`hk_<id>_<secret>`): their id was
 * made from their hash, `hk_` + its first ten characters.
 */
export async function liveOlderKeyHashes(db: Database): Promise<string[]> {
  const rows = await db
    .select({ hash: apiKeys.hash })
    .from(apiKeys)
    .where(and(isNull(apiKeys.revokedAt), eq(apiKeys.id, sql`'hk_' || substr(${apiKeys.hash}, 1, 10)`)));
  return rows.map((row) => row.hash);
}
