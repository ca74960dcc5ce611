import { randomBytes } from 'node:crypto';
import { and, eq, like, notExists, or, sql } from 'drizzle-orm';
import { isAddress, pseudonymOf } from '../domain/recipient-pseudonym';
import type { Database } from './connect';
import { heraldSecrets, preferences, recipients } from './schema';

const KEY_NAME = 'recipient-pseudonyms';
const COPY_BATCH = 1000;
const keys = new WeakMap<Database, Promise<string>>();

/**
 * The key of inline recipients' pseudonymous ids, made once per deployment and kept in the database,
 * so every process, and every restart, gives an address the same id. Read once per process.
 */
export function pseudonymKey(db: Database): Promise<string> {
  let key = keys.get(db);
  if (!key) {
    key = makeOrReadKey(db);
    keys.set(db, key);
    key.catch(() => keys.delete(db));
  }
  return key;
}

/**
 * The transaction that makes the key also copies the preferences inline recipients had under their
 * address (an unsubscribe through a link of an earlier version) to their pseudonym: a process that
 * finds the key made finds the copies made. Copied, not moved: an app may use an address as an id.
 */
function makeOrReadKey(db: Database): Promise<string> {
  return db.transaction(async (tx) => {
    const [made] = await tx
      .insert(heraldSecrets)
      .values({ name: KEY_NAME, value: randomBytes(32).toString('base64url') })
      .onConflictDoNothing()
      .returning({ value: heraldSecrets.value });
    if (made) {
      await copyAddressPreferences(tx, made.value);
      return made.value;
    }
    const [row] = await tx
      .select({ value: heraldSecrets.value })
      .from(heraldSecrets)
      .where(eq(heraldSecrets.name, KEY_NAME));
    return row!.value;
  });
}

/** Preferences kept under an address that no stored profile has: only an inline recipient could have them. */
async function copyAddressPreferences(db: Database, key: string): Promise<void> {
  const rows = await db
    .select({
      tenantId: preferences.tenantId,
      recipientId: preferences.recipientId,
      preferences: preferences.preferences,
    })
    .from(preferences)
    .where(
      and(
        or(like(preferences.recipientId, '%@%'), sql`${preferences.recipientId} ~ '^\\+[1-9][0-9]{6,14}$'`),
        notExists(
          db
            .select({ id: recipients.id })
            .from(recipients)
            .where(and(eq(recipients.tenantId, preferences.tenantId), eq(recipients.id, preferences.recipientId))),
        ),
      ),
    );
  const now = new Date();
  const copies = rows
    .filter((row) => isAddress(row.recipientId))
    .map((row) => ({
      tenantId: row.tenantId,
      recipientId: pseudonymOf(key, row.recipientId),
      preferences: row.preferences,
      version: 1,
      updatedAt: now,
    }));
  for (let i = 0; i < copies.length; i += COPY_BATCH) {
    await db
      .insert(preferences)
      .values(copies.slice(i, i + COPY_BATCH))
      .onConflictDoNothing();
  }
}

/** The pseudonym an inline recipient with this address is known by, when `id` is an address. */
export async function pseudonymOfAddress(db: Database, id: string): Promise<string | undefined> {
  return isAddress(id) ? pseudonymOf(await pseudonymKey(db), id) : undefined;
}

/**
 * The pseudonym that writes to an address's preferences also go to, when no stored profile has that
 * address as its id: a link sent by an earlier version, or an app that set an inline recipient's
 * preferences by its address, still reaches what notifications to that address read.
 */
export async function pseudonymAlias(db: Database, tenantId: string, id: string): Promise<string | undefined> {
  if (!isAddress(id)) return undefined;
  const [profile] = await db
    .select({ id: recipients.id })
    .from(recipients)
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, id)));
  return profile ? undefined : pseudonymOfAddress(db, id);
}
