import { and, eq, inArray } from 'drizzle-orm';
import type { Preferences } from '../domain/preferences';
import type { Database } from './connect';
import { pseudonymAlias } from './recipient-pseudonyms';
import { preferences } from './schema';
import { inTenantKeys } from './tenant-keys';

export interface VersionedPreferences {
  preferences: Preferences;
  /** 0 until the first change. */
  version: number;
  updatedAt?: Date;
}

export async function readPreferences(
  db: Database,
  tenantId: string,
  recipientId: string,
): Promise<VersionedPreferences> {
  const [row] = await db
    .select()
    .from(preferences)
    .where(and(eq(preferences.tenantId, tenantId), eq(preferences.recipientId, recipientId)));
  return row
    ? { preferences: row.preferences, version: row.version, updatedAt: row.updatedAt }
    : { preferences: {}, version: 0 };
}

/** Many recipients' preferences in one query; those with none stored are absent. */
export async function readManyPreferences(
  db: Database,
  tenantId: string,
  recipientIds: string[],
): Promise<Map<string, Preferences>> {
  if (recipientIds.length === 0) return new Map();
  const rows = await db
    .select({ recipientId: preferences.recipientId, preferences: preferences.preferences })
    .from(preferences)
    .where(and(eq(preferences.tenantId, tenantId), inArray(preferences.recipientId, recipientIds)));
  return new Map(rows.map((r) => [r.recipientId, r.preferences]));
}

/** Several requests' reads in one query: each request's recipients' stored preferences, in order. */
export async function readPreferencesGrouped(
  db: Database,
  reads: readonly { tenantId: string; recipientIds: readonly string[] }[],
): Promise<Map<string, Preferences>[]> {
  const keys = reads.flatMap((r) => r.recipientIds.map((id) => [r.tenantId, id] as const));
  if (keys.length === 0) return reads.map(() => new Map());
  const rows = await db
    .select({
      tenantId: preferences.tenantId,
      recipientId: preferences.recipientId,
      preferences: preferences.preferences,
    })
    .from(preferences)
    .where(inTenantKeys(preferences.tenantId, preferences.recipientId, keys));
  const stored = new Map(rows.map((r) => [JSON.stringify([r.tenantId, r.recipientId]), r.preferences]));
  return reads.map(
    (r) =>
      new Map(
        r.recipientIds.flatMap((id) => {
          const found = stored.get(JSON.stringify([r.tenantId, id]));
          return found ? [[id, found] as const] : [];
        }),
      ),
  );
}

/**
 * Writes `change(current)` if the stored version is still `expected` (or whatever it is, when absent,
 * retrying a lost race): `conflict` when another writer got there first. A change to an address that
 * no profile has is made to its pseudonym too (`pseudonymAlias`).
 */
export async function changePreferences(
  db: Database,
  tenantId: string,
  recipientId: string,
  change: (current: Preferences) => Preferences,
  expected?: number,
): Promise<VersionedPreferences | 'conflict'> {
  const changed = await changeOne(db, tenantId, recipientId, change, expected);
  const alias = changed === 'conflict' ? undefined : await pseudonymAlias(db, tenantId, recipientId);
  if (alias && (await changeOne(db, tenantId, alias, change)) === 'conflict')
    throw new Error("preferences changed three times during one change of an address's pseudonym");
  return changed;
}

async function changeOne(
  db: Database,
  tenantId: string,
  recipientId: string,
  change: (current: Preferences) => Preferences,
  expected?: number,
): Promise<VersionedPreferences | 'conflict'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await readPreferences(db, tenantId, recipientId);
    if (expected !== undefined && expected !== current.version) return 'conflict';
    const next = change(current.preferences);
    const now = new Date();
    const written =
      current.version === 0
        ? await db
            .insert(preferences)
            .values({ tenantId, recipientId, preferences: next, version: 1, updatedAt: now })
            .onConflictDoNothing()
            .returning({ version: preferences.version })
        : await db
            .update(preferences)
            .set({ preferences: next, version: current.version + 1, updatedAt: now })
            .where(
              and(
                eq(preferences.tenantId, tenantId),
                eq(preferences.recipientId, recipientId),
                eq(preferences.version, current.version),
              ),
            )
            .returning({ version: preferences.version });
    if (written[0]) return { preferences: next, version: written[0].version, updatedAt: now };
    if (expected !== undefined) return 'conflict';
  }
  return 'conflict';
}
