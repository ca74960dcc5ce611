import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import { prebuiltWorkflowBundle } from '../runtime/project-files';
import { createActivities } from '../activities';
import { buildProviders, closeProviders } from '../activities/providers';
import { buildApi } from '../api/app';
import type { Listen } from '../db/listener';
import type { Database } from '../db/connect';
import { storedSecret } from '../db/secrets';
import { registerSearchAttributes } from '../worker/search-attributes';
import { HeraldWorker } from '../worker/worker';
import { bundleWorkflowsInChildProcess } from '../worker/workflow-bundle';
import type { Tracing } from '../observability/tracing';
import type { Config } from '../runtime/config';
import { connectClient, connectWorker, temporalClient } from '../runtime/temporal';
import { connectRedis } from '../runtime/redis';
import { createRenderPool } from '../runtime/render-pool';
import type { Shutdown } from '../runtime/shutdown';

export interface HeraldOptions {
  config: Config;
  temporalAddress: string;
  db: Database;
  /** Hears the database's announcements, for the live inbox. */
  listen?: Listen;
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
  /** Where the steps that undo this start go; they run before the caller's own. */
  shutdown: Shutdown;
}

export type Herald = Awaited<ReturnType<typeof startHerald>>;

/** Starts the API, the worker, or both, on one database and one Temporal server. */
export async function startHerald(options: HeraldOptions) {
  const { config, temporalAddress, db, shutdown } = options;
  try {
    const links = {
      secret: config.linkSecret ?? (await storedSecret(db, 'link-signing')),
      publicUrl: config.publicUrl,
    };
    // One pool of render threads for the process: the worker's sends and the API's checks and previews.
    const renderer = createRenderPool();
    shutdown.add('the template render threads', () => renderer.close());
    let worker: HeraldWorker | undefined;
    let workerConnection: NativeConnection | undefined;
    // The compiled build's bundle was made by `npm run build`; from the sources it is made at start.
    const prebuilt =
      options.worker && !options.workflowBundle ? prebuiltWorkflowBundle(options.tracing.exported) : undefined;
    if (options.worker) {
      const connection = await connectWorker(config, temporalAddress);
      workerConnection = connection;
      shutdown.add('the worker connection to Temporal', () => connection.close());
      await registerSearchAttributes(connection, config.temporal.namespace);
      const providers = buildProviders(db, { ...config.providers, devOutbox: options.devOutbox });
      shutdown.add('the providers', () => closeProviders(providers));
      worker = await HeraldWorker.start({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.taskQueue,
        activities: createActivities({
          db,
          providers,
          rateLimits: config.rateLimits,
          channelConcurrency: config.channelConcurrency,
          links,
          renderer,
        }),
        workflowBundle:
          options.workflowBundle ??
          prebuilt ??
          (await bundleWorkflowsInChildProcess({ workflowSpans: options.tracing.exported })),
        shutdownGraceMs: config.shutdownGraceMs,
        tracing: options.tracing,
        maxCachedWorkflows: config.maxCachedWorkflows,
        workflowDeadlockMs: config.workflowDeadlockMs,
        rateLimits: config.rateLimits,
        channelConcurrency: config.channelConcurrency,
        highPriorityYieldMs: config.highPriorityYieldMs,
      });
      const started = worker;
      shutdown.add('in-flight activities and workflow tasks', () => started.shutdown());
    }

    let api: Awaited<ReturnType<typeof buildApi>> | undefined;
    if (options.api) {
      // With the worker in this process the client shares its connection, so a start can hand the
      // first workflow task straight to this worker (eager start) instead of through the server's matching.
      let client: Client;
      if (workerConnection) client = temporalClient(config, workerConnection);
      else {
        const connected = await connectClient(config, temporalAddress);
        shutdown.add('the API client connection to Temporal', () => connected.connection.close());
        client = connected.client;
      }
      const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
      if (redis) shutdown.add('Redis', () => redis.quit());
      api = await buildApi({
        db,
        temporal: client,
        eagerStart: workerConnection !== undefined,
        taskQueue: config.taskQueue,
        receiptWindowMs: config.receiptWindowMs,
        retryWindowMs: config.retryWindowMs,
        experimentEvaluateEveryMs: config.experimentEvaluateEveryMs,
        burstHoldMs: config.burstHoldMs,
        highPriority: worker?.highPriority,
        linkSecret: links.secret,
        bodyLimit: config.bodyLimit,
        trustProxy: config.trustProxy,
        authFailuresPerMinute: config.authFailuresPerMinute,
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
        renderer,
        listen: options.listen,
        inboxStreams: config.inboxStreams,
        snoozeCheckMs: config.inboxSnoozeCheckMs,
      });
      const built = api;
      shutdown.add('in-flight HTTP requests', () => built.close());
    }
    /** Where the worker's workflow code came from, for the start-up line: a file `npm run build` made, or made at start. */
    const workflowsFrom = prebuilt?.codePath;
    return { api, worker, workflowsFrom };
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}
