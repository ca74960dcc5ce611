/** `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS and DATABASE_URL. Run as many as you like. */
import { openDatabase } from '../db/connect';
import { installTemporalRuntime } from '../runtime/temporal';
import { startTracing } from '../observability/tracing';
import { loadConfig } from '../runtime/config';
import { startHerald } from '../runtime/herald';
import { requireProductionSettings, stopOnSignals } from '../runtime/production';

async function main() {
  const config = loadConfig();
  installTemporalRuntime();
  const tracing = startTracing({ serviceName: config.serviceName, otlpEndpoint: config.otlpEndpoint });
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
}

main().catch((error: unknown) => {
  console.error('[herald-api] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
