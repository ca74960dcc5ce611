/** Creates a tenant (or rotates its key) and prints its new API key once: `npm run tenant -- <id> [name]`. */
import { newApiKey, upsertTenant } from '../api/tenants';
import { openDatabase } from '../db/connect';
import { loadConfig } from '../runtime/config';

async function main() {
  const [id, name] = process.argv.slice(2);
  if (!id || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id))
    throw new Error('usage: npm run tenant -- <id: a-z 0-9 _ -> [name]');
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required');
  const database = await openDatabase({ url: config.databaseUrl });
  const key = newApiKey();
  await upsertTenant(database.db, id, name ?? id, key);
  await database.close();
  console.log(`tenant ${id}: API key ${key}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
