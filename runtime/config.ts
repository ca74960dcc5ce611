import path from 'node:path';
import { z } from 'zod';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  HERALD_DATA_DIR: z.string().default('.herald'),
  DATABASE_URL: optional.pipe(z.string().url().optional()),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  TEMPORAL_ADDRESS: optional,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TLS_CERT_PATH: optional,
  TEMPORAL_TLS_KEY_PATH: optional,
  TEMPORAL_TLS_CA_PATH: optional,
  TEMPORAL_API_KEY: optional,
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65535).default(8233),
  TEMPORAL_DEV_PORT: z.coerce.number().int().min(0).max(65535).default(7233),
  HERALD_TASK_QUEUE: z.string().min(1).default('herald'),
  HERALD_DEV_API_KEY: optional,
  HERALD_WEBHOOK_SECRET: optional,
  HERALD_RECEIPT_WINDOW_SECONDS: z.coerce.number().min(0).default(3600),
  HERALD_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(262_144),
  HERALD_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  HERALD_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  SMTP_URL: optional.pipe(z.string().url().optional()),
  EMAIL_FROM: z.string().default('Herald <herald@localhost>'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional.pipe(z.string().url().optional()),
  OTEL_SERVICE_NAME: z.string().default('herald'),
  HERALD_SDK_METRICS_ADDRESS: z.string().default('127.0.0.1:9464'),
  HERALD_WORKER_METRICS_ADDRESS: z.string().default('127.0.0.1:9465'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof schema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  databasePoolSize: number;
  temporal: {
    /** Absent in the embedded mode, which starts its own dev server. */
    address?: string;
    namespace: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string };
    apiKey?: string;
    devPort: number;
    uiPort: number;
  };
  taskQueue: string;
  devApiKey?: string;
  webhookSecret?: string;
  receiptWindowMs: number;
  bodyLimit: number;
  shutdownGraceMs: number;
  /** Workflows a worker keeps in memory; sleeping ones beyond it are replayed when they wake. */
  maxCachedWorkflows?: number;
  smtpUrl?: string;
  emailFrom: string;
  logLevel: Env['LOG_LEVEL'];
  /** Spans are exported over OTLP/HTTP only when this is set. */
  otlpEndpoint?: string;
  serviceName: string;
  /** host:port of the Temporal SDK's own Prometheus endpoint; empty turns it off. */
  sdkMetricsAddress?: string;
  /** host:port where a separate worker process serves Herald's metrics; empty turns it off. */
  workerMetricsAddress?: string;
}

export class ConfigError extends Error {}

/** Parses the environment once, failing fast with the name of every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const hasTls = e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.HERALD_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      tls: hasTls
        ? { certPath: e.TEMPORAL_TLS_CERT_PATH, keyPath: e.TEMPORAL_TLS_KEY_PATH, caPath: e.TEMPORAL_TLS_CA_PATH }
        : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    taskQueue: e.HERALD_TASK_QUEUE,
    devApiKey: e.HERALD_DEV_API_KEY,
    webhookSecret: e.HERALD_WEBHOOK_SECRET,
    receiptWindowMs: e.HERALD_RECEIPT_WINDOW_SECONDS * 1000,
    bodyLimit: e.HERALD_BODY_LIMIT_BYTES,
    shutdownGraceMs: e.HERALD_SHUTDOWN_GRACE_SECONDS * 1000,
    maxCachedWorkflows: e.HERALD_MAX_CACHED_WORKFLOWS,
    smtpUrl: e.SMTP_URL,
    emailFrom: e.EMAIL_FROM,
    logLevel: e.LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: e.OTEL_SERVICE_NAME,
    sdkMetricsAddress: e.HERALD_SDK_METRICS_ADDRESS || undefined,
    workerMetricsAddress: e.HERALD_WORKER_METRICS_ADDRESS || undefined,
  };
}
