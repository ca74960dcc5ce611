import path from 'node:path';
import { z } from 'zod';
import type { ProviderSettings } from '../activities/providers';
import { CHANNELS, type Channel } from '../domain/channels';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** `host:port` a process listens on, or unset. */
const listenAddress = optional.pipe(
  z
    .string()
    .regex(/^\S*:\d{1,5}$/, 'must be host:port, such as 127.0.0.1:9464, or empty for none')
    .optional(),
);

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
  HERALD_RETRY_WINDOW_SECONDS: z.coerce.number().min(0).default(86_400),
  HERALD_EXPERIMENT_EVALUATE_SECONDS: z.coerce.number().min(1).default(60),
  HERALD_BURST_HOLD_SECONDS: z.coerce.number().min(0).default(20),
  HERALD_HIGH_PRIORITY_YIELD_SECONDS: z.coerce.number().min(0).default(10),
  HERALD_LINK_SECRET: optional.pipe(z.string().min(32).optional()),
  HERALD_ADMIN_TOKEN: optional.pipe(z.string().min(16).optional()),
  HERALD_TENANT_RATE_PER_SECOND: z.coerce.number().int().positive().default(100),
  HERALD_TENANT_BURST: z.coerce.number().int().positive().default(200),
  HERALD_TENANT_DAILY_QUOTA: z.coerce.number().int().min(0).default(0),
  REDIS_URL: optional.pipe(z.string().url().optional()),
  HERALD_WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  // Behind a load balancer every client has its address: without this, one client's wrong keys would
  // have the balancer's address refused for all of them.
  HERALD_TRUST_PROXY: optional,
  HERALD_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().default(20),
  HERALD_INBOX_STREAMS_PER_RECIPIENT: z.coerce.number().int().positive().default(10),
  HERALD_INBOX_STREAMS_PER_TENANT: z.coerce.number().int().positive().default(10_000),
  HERALD_INBOX_HEARTBEAT_SECONDS: z.coerce.number().positive().default(15),
  HERALD_INBOX_SNOOZE_CHECK_SECONDS: z.coerce.number().positive().default(5),
  HERALD_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(262_144),
  HERALD_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  HERALD_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  // The Temporal SDK's own default. The bound costs the same whatever its length (Node runs a watchdog thread
  // for every call into workflow code); its length only trades how soon a stuck workflow task fails against
  // failing a sound one that a loaded machine or a long pause for garbage collection stretched.
  HERALD_WORKFLOW_DEADLOCK_MS: z.coerce
    .number()
    .int()
    .positive(
      'must be a positive number of milliseconds (a workflow task never runs unbounded); unset it for the default, 5000',
    )
    .default(5000),
  HERALD_PUBLIC_URL: optional.pipe(z.string().url().optional()),
  SMTP_URL: optional.pipe(z.string().url().optional()),
  EMAIL_FROM: z.string().default('Herald <herald@localhost>'),
  SENDGRID_API_KEY: optional,
  SENDGRID_API_BASE_URL: z.string().url().default('https://api.sendgrid.com'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optional,
  TWILIO_ACCOUNT_SID: optional,
  TWILIO_AUTH_TOKEN: optional,
  TWILIO_FROM: optional,
  TWILIO_API_BASE_URL: optional.pipe(z.string().url().optional()),
  VONAGE_API_KEY: optional,
  VONAGE_API_SECRET: optional,
  VONAGE_FROM: optional,
  VONAGE_API_BASE_URL: z.string().url().default('https://rest.nexmo.com'),
  FCM_PROJECT_ID: optional,
  FIREBASE_SERVICE_ACCOUNT: optional,
  FCM_ACCESS_TOKEN: optional,
  FCM_API_BASE_URL: optional.pipe(z.string().url().optional()),
  TELEGRAM_BOT_TOKEN: optional,
  TELEGRAM_API_BASE_URL: z.string().url().default('https://api.telegram.org'),
  SLACK_API_BASE_URL: optional.pipe(z.string().url().optional()),
  DISCORD_API_BASE_URL: optional.pipe(z.string().url().optional()),
  HERALD_EMAIL_PROVIDERS: optional,
  HERALD_SMS_PROVIDERS: optional,
  HERALD_RATE_LIMITS: optional,
  HERALD_CHANNEL_CONCURRENCY: optional,
  HERALD_CIRCUIT_ERROR_PERCENT: z.coerce.number().min(1).max(100).default(50),
  HERALD_CIRCUIT_MIN_REQUESTS: z.coerce.number().int().min(1).default(10),
  HERALD_CIRCUIT_RESET_SECONDS: z.coerce.number().positive().default(30),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional.pipe(z.string().url().optional()),
  OTEL_SERVICE_NAME: z.string().default('herald'),
  // Off unless set: processes on one host would all claim one default port, and a port each is the
  // operator's choice, so that every scrape target is one they named.
  HERALD_SDK_METRICS_ADDRESS: listenAddress,
  HERALD_WORKER_METRICS_ADDRESS: listenAddress,
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
  /** How long a failed notification stays open for an operator's retry. */
  retryWindowMs: number;
  /** How often a running experiment looks at its counts. */
  experimentEvaluateEveryMs: number;
  /** How long low-priority starts give way to a burst of accepts at most; 0: never. */
  burstHoldMs: number;
  /** The budget for normal and low priority giving way to high-priority work in a worker; 0: they never do. */
  highPriorityYieldMs: number;
  /** Signs acknowledge and unsubscribe links; made once and kept in the database when not set. */
  linkSecret?: string;
  /** Guards the admin API; without it the admin API answers 401 to everyone. */
  adminToken?: string;
  /** Limits for tenants without their own: requests per second, burst, notifications per day (0: none). */
  tenantLimits: { ratePerSecond: number; burst: number; dailyQuota: number };
  /** Shares rate-limit counts between API instances; each counts on its own when absent. */
  redisUrl?: string;
  /** Live inboxes open at once in an API process, per recipient and per tenant, and their heartbeat. */
  inboxStreams: { perRecipient: number; perTenant: number; heartbeatMs: number };
  /** How often snoozed in-app messages whose time has come are brought back to the feed. */
  inboxSnoozeCheckMs: number;
  bodyLimit: number;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDRs, comma-separated). */
  trustProxy?: string;
  /** Failed authentications a client address may make per minute before it gets 429. */
  authFailuresPerMinute: number;
  shutdownGraceMs: number;
  /** Workflows a worker keeps in memory; sleeping ones beyond it are replayed when they wake. */
  maxCachedWorkflows?: number;
  /** How long one call into a workflow's code may run before its task fails as a deadlock (and is retried). */
  workflowDeadlockMs: number;
  /** Where providers reach Herald's webhooks (status callbacks). */
  publicUrl: string;
  providers: ProviderSettings;
  /** SendGrid's event webhook verification key (base64 DER), for POST /webhook/sendgrid. */
  sendgridWebhookPublicKey?: string;
  /** Twilio's auth token signs its status callbacks. */
  twilioAuthToken?: string;
  /** Sends per second per channel in each worker process. */
  rateLimits: Partial<Record<Channel, number>>;
  /** Sends in flight per channel per worker. */
  channelConcurrency: Partial<Record<Channel, number>>;
  logLevel: Env['LOG_LEVEL'];
  /** Spans are exported over OTLP/HTTP only when this is set. */
  otlpEndpoint?: string;
  serviceName: string;
  /** host:port of the Temporal SDK's own Prometheus endpoint in a process that runs workers; none when absent. */
  sdkMetricsAddress?: string;
  /** host:port where a separate worker process serves Herald's metrics; none when absent. */
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
  const publicUrl = (e.HERALD_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const providers = providerSettings(e, publicUrl);
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
    retryWindowMs: e.HERALD_RETRY_WINDOW_SECONDS * 1000,
    experimentEvaluateEveryMs: e.HERALD_EXPERIMENT_EVALUATE_SECONDS * 1000,
    burstHoldMs: e.HERALD_BURST_HOLD_SECONDS * 1000,
    highPriorityYieldMs: e.HERALD_HIGH_PRIORITY_YIELD_SECONDS * 1000,
    linkSecret: e.HERALD_LINK_SECRET,
    adminToken: e.HERALD_ADMIN_TOKEN,
    tenantLimits: {
      ratePerSecond: e.HERALD_TENANT_RATE_PER_SECOND,
      burst: e.HERALD_TENANT_BURST,
      dailyQuota: e.HERALD_TENANT_DAILY_QUOTA,
    },
    redisUrl: e.REDIS_URL,
    inboxStreams: {
      perRecipient: e.HERALD_INBOX_STREAMS_PER_RECIPIENT,
      perTenant: e.HERALD_INBOX_STREAMS_PER_TENANT,
      heartbeatMs: e.HERALD_INBOX_HEARTBEAT_SECONDS * 1000,
    },
    inboxSnoozeCheckMs: e.HERALD_INBOX_SNOOZE_CHECK_SECONDS * 1000,
    bodyLimit: e.HERALD_BODY_LIMIT_BYTES,
    trustProxy: e.HERALD_TRUST_PROXY,
    authFailuresPerMinute: e.HERALD_AUTH_FAILURES_PER_MINUTE,
    shutdownGraceMs: e.HERALD_SHUTDOWN_GRACE_SECONDS * 1000,
    maxCachedWorkflows: e.HERALD_MAX_CACHED_WORKFLOWS,
    workflowDeadlockMs: e.HERALD_WORKFLOW_DEADLOCK_MS,
    publicUrl,
    providers,
    sendgridWebhookPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY,
    twilioAuthToken: e.TWILIO_AUTH_TOKEN,
    rateLimits: { ...providerRateLimits(providers), ...channelNumbers('HERALD_RATE_LIMITS', e.HERALD_RATE_LIMITS) },
    channelConcurrency: channelNumbers('HERALD_CHANNEL_CONCURRENCY', e.HERALD_CHANNEL_CONCURRENCY),
    logLevel: e.LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: e.OTEL_SERVICE_NAME,
    sdkMetricsAddress: e.HERALD_SDK_METRICS_ADDRESS,
    workerMetricsAddress: e.HERALD_WORKER_METRICS_ADDRESS,
  };
}

/**
 * Providers' documented sending limits, as task-queue rate limits: Twilio places 1 call a second by
 * default, Telegram bots 30 messages a second, Discord 50 requests a second, Vonage 30 SMS requests a
 * second, FCM 600,000 messages a minute. Email, Slack, webhooks and the inbox have no fixed limit.
 */
export const DEFAULT_RATE_LIMITS: Partial<Record<Channel, number>> = {
  sms: 30,
  voice: 1,
  telegram: 30,
  discord: 50,
  push: 10_000,
};

/** The documented limits of the providers that are configured: the dev outbox has none. */
function providerRateLimits(p: ProviderSettings): Partial<Record<Channel, number>> {
  const configured: Partial<Record<Channel, unknown>> = {
    sms: p.twilio ?? p.vonage,
    voice: p.twilio,
    telegram: p.telegram,
    push: p.fcm,
    discord: true,
  };
  return Object.fromEntries(
    Object.entries(DEFAULT_RATE_LIMITS).filter(([channel]) => configured[channel as Channel]),
  ) as Partial<Record<Channel, number>>;
}

/** `sms=10,voice=1`: a number per channel. */
function channelNumbers(variable: string, value: string | undefined): Partial<Record<Channel, number>> {
  if (!value) return {};
  const result: Partial<Record<Channel, number>> = {};
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, raw] = pair.split('=').map((p) => p.trim());
    const number = Number(raw);
    if (!name || !(CHANNELS as readonly string[]).includes(name) || !(number > 0))
      throw new ConfigError(`Invalid configuration:\n  ${variable}: "${pair}" is not <channel>=<positive number>`);
    result[name as Channel] = number;
  }
  return result;
}

/** All of a provider's variables, or none of them: half a configuration is a mistake worth stopping for. */
function group<K extends keyof Env>(provider: string, e: Env, keys: K[]): Record<K, string> | undefined {
  const set = keys.filter((k) => e[k]);
  if (set.length === 0) return undefined;
  const missing = keys.filter((k) => !e[k]);
  if (missing.length > 0)
    throw new ConfigError(`Invalid configuration:\n  ${missing.join(', ')}: required to use ${provider}`);
  return Object.fromEntries(keys.map((k) => [k, String(e[k])])) as Record<K, string>;
}

function providerList(value: string | undefined): string[] | undefined {
  return value
    ? value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
    : undefined;
}

function providerSettings(e: Env, publicUrl: string): ProviderSettings {
  const twilio = group('Twilio', e, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']);
  const vonage = group('Vonage', e, ['VONAGE_API_KEY', 'VONAGE_API_SECRET', 'VONAGE_FROM']);
  return {
    smtpUrl: e.SMTP_URL,
    emailFrom: e.EMAIL_FROM,
    sendgrid: e.SENDGRID_API_KEY ? { apiKey: e.SENDGRID_API_KEY, baseUrl: e.SENDGRID_API_BASE_URL } : undefined,
    twilio: twilio && {
      accountSid: twilio.TWILIO_ACCOUNT_SID,
      authToken: twilio.TWILIO_AUTH_TOKEN,
      from: twilio.TWILIO_FROM,
      baseUrl: e.TWILIO_API_BASE_URL,
      statusCallbackUrl: `${publicUrl}/webhook/twilio`,
    },
    vonage: vonage && {
      apiKey: vonage.VONAGE_API_KEY,
      apiSecret: vonage.VONAGE_API_SECRET,
      from: vonage.VONAGE_FROM,
      baseUrl: e.VONAGE_API_BASE_URL,
    },
    fcm: e.FCM_PROJECT_ID
      ? {
          projectId: e.FCM_PROJECT_ID,
          serviceAccount: e.FIREBASE_SERVICE_ACCOUNT,
          accessToken: e.FCM_ACCESS_TOKEN,
          baseUrl: e.FCM_API_BASE_URL,
        }
      : undefined,
    telegram: e.TELEGRAM_BOT_TOKEN ? { botToken: e.TELEGRAM_BOT_TOKEN, baseUrl: e.TELEGRAM_API_BASE_URL } : undefined,
    slackBaseUrl: e.SLACK_API_BASE_URL,
    discordBaseUrl: e.DISCORD_API_BASE_URL,
    webhookAllowPrivate: e.HERALD_WEBHOOK_ALLOW_PRIVATE === 'true',
    order: { email: providerList(e.HERALD_EMAIL_PROVIDERS), sms: providerList(e.HERALD_SMS_PROVIDERS) },
    circuit: {
      errorThresholdPercentage: e.HERALD_CIRCUIT_ERROR_PERCENT,
      volumeThreshold: e.HERALD_CIRCUIT_MIN_REQUESTS,
      resetTimeoutMs: e.HERALD_CIRCUIT_RESET_SECONDS * 1000,
    },
  };
}
