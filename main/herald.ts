import type { WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities';
import { buildProviders, closeProviders } from '../activities/providers';
import { buildApi } from '../api/app';
import type { Database } from '../db/connect';
import { storedSecret } from '../db/secrets';
import { registerSearchAttributes } from '../worker/search-attributes';
import { HeraldWorker } from '../worker/worker';
import type { Tracing } from '../observability/tracing';
import type { Config } from '../runtime/config';
import { connectClient, connectWorker } from '../runtime/temporal';
import { connectRedis } from '../runtime/redis';

export interface HeraldOptions {
  config: Config;
  temporalAddress: string;
  db: Database;
  api: boolean;
  worker: boolean;
  /** Mount /dev/outbox (the embedded mode, where unconfigured channels deliver into it). */
  devOutbox: boolean;
  webhookSecret?: string;
  workflowBundle?: WorkflowBundle;
  tracing: Tracing;
  /** JSON request logs at this level; none when absent. */
  logLevel?: string;
  /** The admin API's token when not configured: the embedded mode makes one. */
  adminToken?: string;
}

export type Herald = Awaited<ReturnType<typeof startHerald>>;

/** Starts the API, the worker, or both, on one database and one Temporal server. */
export async function startHerald(options: HeraldOptions) {
  const { config, temporalAddress, db } = options;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const links = {
      secret: config.linkSecret ?? (await storedSecret(db, 'link-signing')),
      publicUrl: config.publicUrl,
    };
    let worker: HeraldWorker | undefined;
    if (options.worker) {
      const connection = await connectWorker(config, temporalAddress);
      stops.push(() => connection.close());
      await registerSearchAttributes(connection, config.temporal.namespace);
      const providers = buildProviders(db, { ...config.providers, devOutbox: options.devOutbox });
      stops.push(() => closeProviders(providers));
      worker = await HeraldWorker.start({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.taskQueue,
        activities: createActivities({ db, providers, rateLimits: config.rateLimits, links }),
        workflowBundle: options.workflowBundle,
        shutdownGraceMs: config.shutdownGraceMs,
        tracing: options.tracing,
        maxCachedWorkflows: config.maxCachedWorkflows,
        rateLimits: config.rateLimits,
        channelConcurrency: config.channelConcurrency,
      });
      const started = worker;
      stops.push(() => started.shutdown());
    }

    let api: Awaited<ReturnType<typeof buildApi>> | undefined;
    if (options.api) {
      const { client, connection } = await connectClient(config, temporalAddress);
      stops.push(() => connection.close());
      const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
      if (redis) stops.push(async () => void (await redis.quit()));
      api = await buildApi({
        db,
        temporal: client,
        taskQueue: config.taskQueue,
        receiptWindowMs: config.receiptWindowMs,
        retryWindowMs: config.retryWindowMs,
        linkSecret: links.secret,
        bodyLimit: config.bodyLimit,
        webhookSecret: options.webhookSecret ?? config.webhookSecret,
        publicUrl: config.publicUrl,
        twilioAuthToken: config.twilioAuthToken,
        sendgridWebhookPublicKey: config.sendgridWebhookPublicKey,
        devOutbox: options.devOutbox,
        logLevel: options.logLevel,
        adminToken: options.adminToken ?? config.adminToken,
        tenantLimits: config.tenantLimits,
        webhookAllowPrivate: config.providers.webhookAllowPrivate,
        redis,
      });
      const built = api;
      stops.push(() => built.close());
    }
    return { api, worker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
