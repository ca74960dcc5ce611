import { readFileSync } from 'node:fs';
import { Client, Connection, QueryRejectCondition, type ConnectionLike } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, NativeConnection, Runtime, type NativeConnectionOptions } from '@temporalio/worker';
import { createLogger } from '../observability/logger';
import type { Config } from './config';

/** Connection settings shared by the API's client and the worker, from TEMPORAL_* variables. */
export function temporalConnectionOptions(config: Config, address: string): NativeConnectionOptions {
  const { tls, apiKey } = config.temporal;
  return {
    address,
    apiKey,
    tls: tls
      ? {
          serverRootCACertificate: tls.caPath ? readFileSync(tls.caPath) : undefined,
          clientCertPair:
            tls.certPath && tls.keyPath
              ? { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) }
              : undefined,
        }
      : apiKey
        ? true
        : undefined,
  };
}

export async function connectClient(
  config: Config,
  address: string,
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(temporalConnectionOptions(config, address));
  return { client: temporalClient(config, connection), connection };
}

/** The API's client on a connection of its own, or on a worker's `NativeConnection` for eager starts. */
export function temporalClient(config: Config, connection: ConnectionLike): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    // Closed workflows are answered from the database rather than replayed to answer a query.
    workflow: { queryRejectCondition: QueryRejectCondition.NOT_OPEN },
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}

export function connectWorker(config: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config, address));
}

/** Warnings and errors only, less the expected note that channel workers run no workflows. */
export function temporalLogger(level: 'WARN' | 'ERROR' = 'WARN'): DefaultLogger {
  const logger = createLogger(level.toLowerCase()).child({ component: 'temporal' });
  return new DefaultLogger(level, ({ level, message, meta }) => {
    if (message.startsWith('No workflows registered')) return;
    logger[level === 'ERROR' ? 'error' : 'warn'](meta ?? {}, message);
  });
}

/** Process entry points call this before anything connects to Temporal. */
export function installTemporalRuntime(level: 'WARN' | 'ERROR' = 'WARN', metricsAddress?: string): void {
  Runtime.install({
    logger: temporalLogger(level),
    telemetryOptions: metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : undefined,
  });
}
