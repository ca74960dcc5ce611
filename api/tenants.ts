import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { apiKeys, tenants } from '../db/schema';

/** What a key may do: `send` writes (notify, actions, recipients), `read` reads, `admin` manages the tenant. */
export const SCOPES = ['send', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A tenant's own limits; null means the configured default. */
export interface TenantLimits {
  ratePerSecond: number | null;
  burst: number | null;
  dailyQuota: number | null;
}

/** Who is calling: the tenant, the key it used and what that key may do. */
export interface Caller {
  tenantId: string;
  keyId: string;
  scopes: readonly Scope[];
  limits: TenantLimits;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** `hk_<id>_<secret>`: the `hk_<id>` part names the key in lists and logs; only the hash of the whole is kept. */
export function newApiKey(): { id: string; key: string } {
  const id = `hk_${randomBytes(5).toString('hex')}`;
  return { id, key: `${id}_${randomBytes(24).toString('base64url')}` };
}

/** The key's public id, read from the key itself; keys made before ids existed get one from their hash. */
export function keyIdOf(key: string): string {
  const match = /^(hk_[0-9a-f]{10})_/.exec(key);
  return match ? match[1]! : `hk_${hashApiKey(key).slice(0, 10)}`;
}

/** Creates the tenant if it is new and lets this key in with every scope: the embedded dev tenant, tests. */
export async function upsertTenant(db: Database, id: string, name: string, apiKey: string): Promise<void> {
  await db.insert(tenants).values({ id, name }).onConflictDoUpdate({ target: tenants.id, set: { name } });
  await db
    .insert(apiKeys)
    .values({ id: keyIdOf(apiKey), tenantId: id, name: 'default', hash: hashApiKey(apiKey), scopes: [...SCOPES] })
    .onConflictDoNothing();
}

export interface IssuedKey {
  id: string;
  /** The key itself: in this answer only, never again. */
  key: string;
  name: string;
  scopes: Scope[];
  createdAt: Date;
}

export async function issueKey(db: Database, tenantId: string, name: string, scopes: Scope[]): Promise<IssuedKey> {
  const { id, key } = newApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({ id, tenantId, name, hash: hashApiKey(key), scopes })
    .returning({ createdAt: apiKeys.createdAt });
  return { id, key, name, scopes, createdAt: row!.createdAt };
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

/** False when the tenant has no such key; revoking a revoked key again changes nothing. */
export async function revokeKey(db: Database, tenantId: string, keyId: string): Promise<boolean> {
  const [key] = await db
    .select({ revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)));
  if (!key) return false;
  if (!key.revokedAt)
    await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)));
  return true;
}

/** How long an answer is remembered: a key revoked through another API instance stops working within it. */
const CACHE_TTL_MS = 5_000;

/** Resolves API keys to callers, remembering answers briefly to keep the hot path off the database. */
export class TenantDirectory {
  private readonly cache = new Map<string, { caller: Caller | null; expires: number }>();

  constructor(private readonly db: Database) {}

  async callerForKey(apiKey: string): Promise<Caller | null> {
    const hash = hashApiKey(apiKey);
    const cached = this.cache.get(hash);
    if (cached && cached.expires > Date.now()) return cached.caller;
    const [row] = await this.db
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
    const caller: Caller | null = row
      ? {
          tenantId: row.tenantId,
          keyId: row.keyId,
          scopes: row.scopes as Scope[],
          limits: { ratePerSecond: row.ratePerSecond, burst: row.burst, dailyQuota: row.dailyQuota },
        }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { caller, expires: Date.now() + CACHE_TTL_MS });
    return caller;
  }

  /** Forgets every remembered answer: after a revocation or a change of limits, this instance sees it at once. */
  forget(): void {
    this.cache.clear();
  }
}
