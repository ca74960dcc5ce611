import { installTemporalRuntime } from '../runtime/temporal';
import { ConfigError, loadConfig, type Config } from '../runtime/config';
import { startTracing, type Tracing } from '../observability/tracing';
import { serveMetrics } from '../observability/metrics-server';
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
  const sdkMetricsAddress = role === 'api' ? undefined : config.sdkMetricsAddress;
  try {
    installTemporalRuntime('WARN', sdkMetricsAddress);
  } catch (error) {
    if (!sdkMetricsAddress) throw error;
    throw listenError('HERALD_SDK_METRICS_ADDRESS', sdkMetricsAddress, error);
  }
  const tracing = startTracing({ serviceName: config.serviceName, otlpEndpoint: config.otlpEndpoint });
  return { config, tracing };
}

/** A metrics address this process could not listen on, named with the variable that set it and the fix. */
function listenError(variable: string, address: string, error: unknown): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /EADDRINUSE|address already in use/i.test(message)
    ? 'another process on this host listens there (another Herald process with the same setting?)'
    : message;
  return new ConfigError(
    `${variable}=${address}: ${reason}. Give each process an address of its own, or leave ${variable} empty to serve none`,
  );
}

/**
 * A separate API or worker process: it shares state with the others only through PostgreSQL and
 * Temporal, so both must be named. Starts Herald in that role; `shutdown` undoes it all.
 */
export async function startProductionRole(role: 'api' | 'worker') {
  const { config, tracing } = boot(role);
  const shutdown = new Shutdown();
  shutdown.add('the trace exporter', () => tracing.shutdown());
  // Bound before anything connects, as the SDK's endpoint is: a taken address stops the process at once.
  const metricsAddress = role === 'worker' ? config.workerMetricsAddress : undefined;
  let ready = false;
  if (metricsAddress) {
    const metrics = await serveMetrics(metricsAddress, () => ready).catch((error: unknown) => {
      throw listenError('HERALD_WORKER_METRICS_ADDRESS', metricsAddress, error);
    });
    shutdown.add('the metrics endpoint', () => {
      metrics.close();
      metrics.closeAllConnections();
    });
  }
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required: separate API and worker processes share PostgreSQL');
  const temporalAddress = config.temporal.address ?? 'localhost:7233';
  const database = await openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  shutdown.add('the database', () => database.close());
  const herald = await startHerald({
    config,
    tracing,
    temporalAddress,
    db: database.db,
    listen: database.listen,
    api: role === 'api',
    worker: role === 'worker',
    devOutbox: false,
    logLevel: role === 'api' ? config.logLevel : undefined,
    shutdown,
  });
  // Ready while it polls: steps run last-registered first, so a stop says "not ready" before anything else.
  ready = true;
  shutdown.add('readiness', () => {
    ready = false;
  });
  return { config, tracing, herald, temporalAddress, shutdown };
}

/** How long a stop may take: the workers' grace time for activities, and some for the rest. */
export const stopDeadlineMs = (config: Config) => config.shutdownGraceMs + 15_000;

const USAGE: Record<string, string> = {
  herald: `Herald on embedded defaults: a Temporal dev server, PGlite (unless DATABASE_URL is set), the worker and the API.
Settings come from the environment (PORT, HERALD_DATA_DIR, provider credentials, ...): see docs/configuration.md.`,
  'herald-api': `Herald's HTTP API alone. Needs DATABASE_URL (PostgreSQL) and TEMPORAL_ADDRESS (default localhost:7233);
listens on PORT (default 8080). Run as many as you like; see docs/deploy.md and docs/configuration.md.`,
  'herald-migrate': `Brings the schema of DATABASE_URL (PostgreSQL) up to date and exits. Several at once are safe: one
migrates while the others wait, then finds nothing to do.`,
  'herald-worker': `Herald's workflows and activities alone. Needs DATABASE_URL (PostgreSQL) and TEMPORAL_ADDRESS (default
localhost:7233). Scale out freely; see docs/deploy.md.`,
};

/** Runs an entry point, printing only the message of a start-up failure; `--help` says what it needs. */
export function run(name: string, main: () => Promise<unknown>): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE[name] ?? name);
    return;
  }
  main().catch((error: unknown) => {
    console.error(
      `[${name}] failed${name === 'herald' ? ' to start' : ''}:`,
      error instanceof Error ? error.message : error,
    );
    process.exit(1);
  });
}
