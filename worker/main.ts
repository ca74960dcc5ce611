/** `npm run worker`: workflows and activities alone, against TEMPORAL_ADDRESS and DATABASE_URL. Scale out freely. */
import { openDatabase } from '../db/connect';
import { installTemporalRuntime } from '../runtime/temporal';
import { serveMetrics } from '../observability/metrics-server';
import { startTracing } from '../observability/tracing';
import { loadConfig } from '../runtime/config';
import { startHerald } from '../runtime/herald';
import { requireProductionSettings, stopOnSignals } from '../runtime/production';

async function main() {
  const config = loadConfig();
  installTemporalRuntime('WARN', config.sdkMetricsAddress);
  const tracing = startTracing({ serviceName: config.serviceName, otlpEndpoint: config.otlpEndpoint });
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
}

main().catch((error: unknown) => {
  console.error('[herald-worker] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
