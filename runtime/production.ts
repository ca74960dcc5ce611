import { ConfigError, type Config } from './config';

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
