import { randomBytes } from 'node:crypto';
import { sha256 } from '../domain/sha256';
import { findLiveKey, insertKey, liveOlderKeyHashes, upsertTenantWithKey } from '../db/api-keys';
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
  /** Whose request allowance the caller draws on: its tenant's when absent. */
  rateKey?: string;
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
/** Only live keys are remembered as live, so only a deployment using more keys than this looks one up again early. */
const LIVE_KEYS_KEPT = 100_000;
/** Wrong keys remembered: apart from the live ones, so a flood of wrong keys pushes out only other wrong keys. */
const REFUSED_KEYS_KEPT = 10_000;
/** How long the hashes of keys from before `hk_<id>_<secret>` are kept before they are read again. */
const OLDER_KEYS_TTL_MS = 60_000;

/** The shape of every key `newApiKey` makes: anything else is refused without a look at the database. */
const ISSUED_KEY = /^hk_[0-9a-f]{10}_[A-Za-z0-9_-]{32}$/;

/** A Map that forgets its oldest entry when it is full. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/** Resolves API keys to callers, remembering answers briefly to keep the hot path off the database. */
export class TenantDirectory {
  private readonly live = new BoundedMap<string, { caller: Caller; expires: number }>(LIVE_KEYS_KEPT);
  private readonly refused = new BoundedMap<string, number>(REFUSED_KEYS_KEPT);
  private olderKeys?: { hashes: Promise<Set<string>>; expires: number };

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key was live when this instance last looked it up (it may have been revoked since). */
  wasLive(apiKey: string): boolean {
    return this.live.has(hashApiKey(apiKey));
  }

  async callerForKey(apiKey: string): Promise<Caller | null> {
    const hash = hashApiKey(apiKey);
    const known = this.live.get(hash);
    if (known && known.expires > this.now()) return known.caller;
    if (!known && !(await this.mayBeKey(apiKey, hash))) return null;
    if ((this.refused.get(hash) ?? 0) > this.now()) return null;
    const row = await findLiveKey(this.db, hash);
    if (!row) {
      this.live.delete(hash);
      this.refused.set(hash, this.now() + CACHE_TTL_MS);
      return null;
    }
    const caller: Caller = {
      tenantId: row.tenantId,
      keyId: row.keyId,
      scopes: row.scopes as Scope[],
      limits: { ratePerSecond: row.ratePerSecond, burst: row.burst, dailyQuota: row.dailyQuota },
    };
    this.refused.delete(hash);
    this.live.set(hash, { caller, expires: this.now() + CACHE_TTL_MS });
    return caller;
  }

  /**
   * Forgets every remembered answer: after a revocation or a change of limits, this instance sees it at
   * once. Keys live before are still known as such, so they are looked up again without counting as attempts.
   */
  forget(): void {
    for (const entry of this.live.values()) entry.expires = 0;
    this.refused.clear();
    this.olderKeys = undefined;
  }

  /**
   * Whether a key can exist: every key Herald issues has one shape, and keys from before it (tenants'
   * keys from before ids, a dev key set by hand) are known by their hash, read at most once a minute.
   */
  private async mayBeKey(apiKey: string, hash: string): Promise<boolean> {
    if (ISSUED_KEY.test(apiKey)) return true;
    let older = this.olderKeys;
    if (!older || older.expires <= this.now()) {
      const entry = {
        hashes: liveOlderKeyHashes(this.db).then((list) => new Set(list)),
        expires: this.now() + OLDER_KEYS_TTL_MS,
      };
      older = this.olderKeys = entry;
      // A failed read is not kept: the next key tries again.
      entry.hashes.catch(() => {
        if (this.olderKeys === entry) this.olderKeys = undefined;
      });
    }
    return (await older.hashes).has(hash);
  }
}
