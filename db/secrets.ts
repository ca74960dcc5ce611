import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from './connect';
import { heraldSecrets } from './schema';

/** A secret Herald makes for itself once and keeps, so every process (and every restart) shares it. */
export async function storedSecret(db: Database, name: string): Promise<string> {
  await db
    .insert(heraldSecrets)
    .values({ name, value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await db.select({ value: heraldSecrets.value }).from(heraldSecrets).where(eq(heraldSecrets.name, name));
  return row!.value;
}
