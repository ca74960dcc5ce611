import { installTemporalRuntime } from '../runtime/temporal';
import { ConfigError, loadConfig, type Config } from '../runtime/config';
import { startTracing, type Tracing } from '../observability/tracing';

export type Role = 'embedded' | 'api' | 'worker';

export interface Boot {
  config: Config;
  tracing: Tracing;
}

/** What every entry point does first: parse the environment, install the Temporal runtime, start tracing. */
export function boot(role: Role): Boot {
  const config = loadConfig();
  // The API serves no SDK metrics: only processes that run workers have any.
  installTemporalRuntime('WARN', role === 'api' ? undefined : config.sdkMetricsAddress);
  const tracing = startTracing({ serviceName: config.serviceName, otlpEndpoint: config.otlpEndpoint });
  return { config, tracing };
}

/** The separate API and worker processes share state only through PostgreSQL and Temporal. */
export function requireProductionSettings(config: Config): { temporalAddress: string; databaseUrl: string } {
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required: separate API and worker processes share PostgreSQL');
  return { temporalAddress: config.temporal.address ?? 'localhost:7233', databaseUrl: config.databaseUrl };
}

export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Runs an entry point, printing only the message of a start-up failure. */
export function run(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    console.error(
      `[${name}] failed${name === 'herald' ? ' to start' : ''}:`,
      error instanceof Error ? error.message : error,
    );
    process.exit(1);
  });
}
