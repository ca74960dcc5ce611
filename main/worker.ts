/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import { openDatabase } from '../db/connect';
import { serveMetrics } from '../observability/metrics-server';
import { boot, requireProductionSettings, run, stopOnSignals } from './boot';
import { startHerald } from './herald';

run('herald-worker', async () => {
  const { config, tracing } = boot('worker');
  const { temporalAddress, databaseUrl } = requireProductionSettings(config);
  const database = await openDatabase({ url: databaseUrl, poolSize: config.databasePoolSize });
  const herald = await startHerald({
    config,
    tracing,
    temporalAddress,
    db: database.db,
    api: false,
    worker: true,
    devOutbox: false,
  });
  const metrics = config.workerMetricsAddress ? await serveMetrics(config.workerMetricsAddress) : undefined;
  console.log(`[herald-worker] polling task queue "${config.taskQueue}" on ${temporalAddress}`);
  stopOnSignals(async () => {
    await herald.stop();
    metrics?.close();
    await tracing.shutdown();
    await database.close();
  });
  await herald.worker!.done;
});
