import { randomBytes } from 'node:crypto';
import { sha256 } from '../domain/sha256';
import { findLiveKey, insertKey, upsertTenantWithKey } from '../db/api-keys';
import type { Database } from '../db/connect';

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
  return sha256(key);
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
export function upsertTenant(db: Database, id: string, name: string, apiKey: string): Promise<void> {
  return upsertTenantWithKey(db, { id, name }, { id: keyIdOf(apiKey), hash: hashApiKey(apiKey), scopes: [...SCOPES] });
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
  const [row] = await insertKey(db, { id, tenantId, name, hash: hashApiKey(key), scopes });
  return { id, key, name, scopes, createdAt: row!.createdAt };
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
    const row = await findLiveKey(this.db, hash);
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
