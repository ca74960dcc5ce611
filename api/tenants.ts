import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/connect';
import { tenants } from '../db/schema';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): string {
  return `hk_${randomBytes(24).toString('base64url')}`;
}

/** Creates the tenant, or gives it this key if it exists; the key is stored only as its hash. */
export async function upsertTenant(db: Database, id: string, name: string, apiKey: string): Promise<void> {
  const apiKeyHash = hashApiKey(apiKey);
  await db
    .insert(tenants)
    .values({ id, name, apiKeyHash })
    .onConflictDoUpdate({ target: tenants.id, set: { apiKeyHash, name } });
}

const CACHE_TTL_MS = 30_000;

/** Resolves API keys to tenants, remembering answers briefly to keep the hot path off the database. */
export class TenantDirectory {
  private readonly cache = new Map<string, { tenantId: string | null; expires: number }>();

  constructor(private readonly db: Database) {}

  async tenantForKey(apiKey: string): Promise<string | null> {
    const hash = hashApiKey(apiKey);
    const cached = this.cache.get(hash);
    if (cached && cached.expires > Date.now()) return cached.tenantId;
    const [row] = await this.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.apiKeyHash, hash));
    const tenantId = row?.id ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { tenantId, expires: Date.now() + CACHE_TTL_MS });
    return tenantId;
  }
}
