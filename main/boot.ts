import { installTemporalRuntime } from '../runtime/temporal';
import { ConfigError, loadConfig, type Config } from '../runtime/config';
import { startTracing, type Tracing } from '../observability/tracing';
import { openDatabase } from '../db/connect';
import { Shutdown } from '../runtime/shutdown';
import { startHerald } from './herald';

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

/**
 * A separate API or worker process: it shares state with the others only through PostgreSQL and
 * Temporal, so both must be named. Starts Herald in that role; `shutdown` undoes it all.
 */
export async function startProductionRole(role: 'api' | 'worker') {
  const { config, tracing } = boot(role);
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required: separate API and worker processes share PostgreSQL');
  const temporalAddress = config.temporal.address ?? 'localhost:7233';
  const shutdown = new Shutdown();
  shutdown.add('the trace exporter', () => tracing.shutdown());
  const database = await openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  shutdown.add('the database', () => database.close());
  const herald = await startHerald({
    config,
    tracing,
    temporalAddress,
    db: database.db,
    api: role === 'api',
    worker: role === 'worker',
    devOutbox: false,
    logLevel: role === 'api' ? config.logLevel : undefined,
    shutdown,
  });
  return { config, herald, temporalAddress, shutdown };
}

/** How long a stop may take: the workers' grace time for activities, and some for the rest. */
export const stopDeadlineMs = (config: Config) => config.shutdownGraceMs + 15_000;

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
