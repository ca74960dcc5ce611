/** `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS and DATABASE_URL. Run as many as you like. */
import { openDatabase } from '../db/connect';
import { boot, requireProductionSettings, run, stopOnSignals } from './boot';
import { startHerald } from './herald';

run('herald-api', async () => {
  const { config, tracing } = boot('api');
  const { temporalAddress, databaseUrl } = requireProductionSettings(config);
  const database = await openDatabase({ url: databaseUrl, poolSize: config.databasePoolSize });
  const herald = await startHerald({
    config,
    tracing,
    temporalAddress,
    db: database.db,
    api: true,
    worker: false,
    devOutbox: false,
    logLevel: config.logLevel,
  });
  await herald.api!.listen({ port: config.port, host: config.host });
  stopOnSignals(async () => {
    await herald.stop();
    await tracing.shutdown();
    await database.close();
  });
});
