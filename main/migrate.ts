/**
 * `npm run migrate`: brings DATABASE_URL's schema up to date and exits; a deploy's one-shot job runs
 * it before new API and worker processes start (they migrate at start too, one at a time).
 */
import { openDatabase } from '../db/connect';
import { ConfigError, loadConfig } from '../runtime/config';
import { run } from './boot';

run('herald-migrate', async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required: the PostgreSQL database to migrate');
  const started = performance.now();
  const database = await openDatabase({ url: config.databaseUrl, poolSize: 1 });
  await database.close();
  console.log(`[herald-migrate] the schema is up to date (${Math.round(performance.now() - started)} ms)`);
});
