import type Ajv from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import type { Client } from '@temporalio/client';
import { isValidPhoneNumber } from 'libphonenumber-js';
import type { Database } from '../db/connect';
import type { HighPriorityYield } from '../domain/high-priority-yield';
import { loggerOptions } from '../observability/logger';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { httpRequestDuration, httpRequests } from '../observability/metrics';
import { startServerSpan } from '../observability/tracing';
import { trackAllowedMethods } from './allowed-methods';
import { drainOnClose } from './drain';
import { OPTIONAL_BODY } from './schemas';
import { DEFAULT_STREAM_LIMITS, InboxStreams, type StreamLimits } from './inbox-streams';
import { clientErrorHandler } from './client-errors';
import { wakeSnoozedOnSchedule } from './inbox-wakeups';
import type { Listen } from '../db/listener';
import type { Redis } from 'ioredis';
import { adminAuth, bearerAuth } from './auth';
import { recipientCaller } from './recipient-tokens';
import { recipientTokenRoutes } from './routes/recipient-tokens';
import { inboxSettingsRoutes } from './routes/inbox-settings';
import { inboxStreamRoutes } from './routes/inbox-stream';
import { widgetRoutes } from './routes/widget';
import { FailedAuthThrottle } from './auth-throttle';
import { limitRequests, TenantLimits, type LimitDefaults } from './tenant-limits';
import { problems } from './schemas';
import { adminRoutes } from './routes/admin';
import { auditRoutes } from './routes/audit';
import { experimentRoutes } from './routes/experiments';
import { templateRoutes } from './routes/templates';
import { broadcastRoutes } from './routes/broadcasts';
import { keyRoutes } from './routes/keys';
import { mayHoldUnstorable, parseJsonBody, refuseUnstorable } from './json-body';
import type { ApiContext } from './context';
import { createRenderPool } from '../runtime/render-pool';
import { Problem, problemErrorHandler, sendProblem } from './problems';
import { devOutboxRoutes } from './routes/dev-outbox';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { notifyRoutes } from './routes/notify';
import { inboxRoutes } from './routes/inbox';
import { recipientRoutes } from './routes/recipients';
import { settingsRoutes } from './routes/settings';
import { statusRoutes } from './routes/status';
import { webhookRoutes, webhookSecuritySchemes } from './routes/webhooks';
import { TenantDirectory } from './tenants';
import { actionRoutes } from './routes/actions';
import { escalationPolicyRoutes } from './routes/escalation-policies';
import { linkRoutes } from './routes/links';
import { preferenceRoutes } from './routes/preferences';
import { scheduleRoutes } from './routes/schedules';
import { storedSecret } from '../db/secrets';
import { StartDispatcher } from './start-dispatcher';
import { GroupCommit } from '../domain/group-commit';
import { readManyPreferences, readPreferencesGrouped } from '../db/preferences';

/** A grouped read of 256 requests stays far below PostgreSQL's 65,535 query parameters. */
const GROUPED_READ_MAX_RECIPIENTS = 50;

declare module 'fastify' {
  interface FastifyRequest {
    span?: Span;
  }
}

export interface ApiOptions {
  db: Database;
  temporal: Client;
  /** The client shares a worker's connection on `taskQueue`: starts may run their first task there at once. */
  eagerStart?: boolean;
  taskQueue: string;
  receiptWindowMs: number;
  /** How long a failed notification waits for an operator's retry; none when absent. */
  retryWindowMs?: number;
  /** How often a running experiment looks at its counts; a minute when absent. */
  experimentEvaluateEveryMs?: number;
  /** How long low-priority starts give way to a burst of accepts at most; never when absent. */
  burstHoldMs?: number;
  /** A worker in this process, told of high-priority accepts so it gives way to them from the accept on. */
  highPriority?: HighPriorityYield;
  /** Signs links in messages; made once and kept in the database when absent. */
  linkSecret?: string;
  bodyLimit: number;
  webhookSecret?: string;
  publicUrl: string;
  twilioAuthToken?: string;
  sendgridWebhookPublicKey?: string;
  /** Mounts /dev/outbox; only the embedded mode delivers there. */
  devOutbox: boolean;
  /** Log level for JSON request logs; silent when absent. */
  logLevel?: string;
  /** Guards /admin; the admin API answers 401 when absent. */
  adminToken?: string;
  tenantLimits: LimitDefaults;
  /** Lets tenants' webhook URLs name private addresses. */
  webhookAllowPrivate?: boolean;
  /** Shares rate-limit counts with other API instances. */
  redis?: Redis;
  /**
   * Proxies in front of Herald whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated):
   * failed authentication is counted per client address, which behind a proxy is otherwise the proxy's.
   */
  trustProxy?: string;
  /** Failed authentications a client address may make per minute before it gets 429; 20 when absent. */
  authFailuresPerMinute?: number;
  /** Hears the database's announcements: the live inbox (GET /inbox/stream) needs it. */
  listen?: Listen;
  /** Limits of the live inbox; the defaults when absent. */
  inboxStreams?: Partial<StreamLimits>;
  /** How often snoozed inbox messages whose time has come are woken; 5 s when absent. */
  snoozeCheckMs?: number;
  /** Checks templates when saved and renders previews; a pool of its own, started when first used, when absent. */
  renderer?: ApiContext['renderer'];
}

/**
 * A route that takes no body as well as an empty one says so with `x-body-optional` in its schema: the
 * document then marks its body not required (Fastify's schemas cannot).
 */
function withOptionalBodies<D extends { paths?: object }>(document: D): D {
  for (const path of Object.values(document.paths ?? {}) as Record<string, Record<string, unknown>>[])
    for (const operation of Object.values(path)) {
      if (typeof operation !== 'object' || operation === null || !(OPTIONAL_BODY in operation)) continue;
      const op = operation as Record<string, unknown> & { requestBody?: { required?: boolean } };
      delete op[OPTIONAL_BODY];
      if (op.requestBody) op.requestBody.required = false;
    }
  return document;
}

/** Formats the request schemas name beyond JSON Schema's own: E.164 phone numbers, IANA time zones. */
function heraldFormats(ajv: Ajv): Ajv {
  return ajv
    .addFormat('phone', { type: 'string', validate: (v) => v.startsWith('+') && isValidPhoneNumber(v) })
    .addFormat('timezone', { type: 'string', validate: isTimeZone });
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The longest request line and headers the API reads; past it, a 431 problem. */
const MAX_HEADER_BYTES = 64 * 1024;

export async function buildApi(options: ApiOptions) {
  const app = Fastify({
    logger: options.logLevel ? loggerOptions(options.logLevel) : false,
    bodyLimit: options.bodyLimit,
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    // Long ids reach validation (400 naming the field) instead of the router's bare 414.
    routerOptions: { maxParamLength: 1024 },
    // Requests that reach a closing API are read and answered, not refused unread: see drainOnClose.
    return503OnClosing: false,
    clientErrorHandler,
    // Room for what a query's documented maximum lengths allow, however its characters are encoded (a
    // 2,000-character token can take 24 KB of URL); Node's default is 16 KiB.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    // A URL the router cannot take still gets a problem, not Fastify's own JSON.
    frameworkErrors: (error, _request, reply) =>
      sendProblem(
        reply,
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new Problem(414, 'URI too long', 'A path segment is longer than 1,024 characters', 'path')
          : new Problem(400, 'Invalid request', 'The URL is not valid', 'path'),
      ),
    ajv: {
      // Unknown fields are errors, not silently dropped; values are never coerced into another type. Errors
      // carry their schema (verbose), whose description tells the caller what the field takes.
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, verbose: true },
      plugins: [heraldFormats],
    },
  });
  const inboxStreams = options.listen
    ? new InboxStreams(options.db, options.listen, { ...DEFAULT_STREAM_LIMITS, ...options.inboxStreams }, app.log)
    : undefined;
  // Live inboxes end first: their clients reconnect elsewhere, and the drain does not wait on them.
  if (inboxStreams) app.addHook('preClose', () => inboxStreams.stop());
  if (inboxStreams) {
    const stopWaking = wakeSnoozedOnSchedule(options.db, app.log, options.snoozeCheckMs ?? 5000);
    app.addHook('preClose', stopWaking);
  }
  // A stop answers every request the API has taken, and ends as soon as they are answered.
  drainOnClose(app);

  await app.register(swagger, {
    transformObject: (document) =>
      'openapiObject' in document ? withOptionalBodies(document.openapiObject) : document.swaggerObject,
    openapi: {
      info: { title: 'Herald', description: 'Durable multi-channel notifications', version: '0.2.0' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A tenant API key, `hk_<id>_<secret>`' },
          admin: { type: 'http', scheme: 'bearer', description: 'The admin token, HERALD_ADMIN_TOKEN' },
          ...webhookSecuritySchemes,
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Herald takes bearer credentials only, never cookies, so a page on any origin may call it: an app's page
  // holding a recipient token reads its inbox and stream from Herald's origin.
  await app.register(cors, {
    origin: '*',
    allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
    exposedHeaders: ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'retry-after'],
    maxAge: 600,
  });
  // The live inbox's WebSocket option: an upgrade passes the hooks (authentication, limits) as any request does.
  await app.register(websocket, {
    // Clients send nothing but pongs and their close: what one may make the server read is kept small.
    options: { maxPayload: 4096 },
    // A client's socket failing (gone without a close) is the client's doing, not the API's error.
    errorHandler: (error, socket, request) => {
      request.log.warn({ err: error }, 'a WebSocket failed');
      socket.terminate();
    },
    // The live inbox closed its sockets (1001) as the stop began, and the drain gave their clients time to
    // answer; one still open would hold the server's close until ws gives up on it, 30 s on.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.terminate();
      done();
    },
  });

  // The API speaks JSON only: any other body is refused with 415, not parsed as text.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const unstorable = new WeakSet<FastifyRequest>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      if (mayHoldUnstorable(body as string)) unstorable.add(request);
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook('preHandler', async (request) => {
    if (unstorable.has(request)) refuseUnstorable(request.body);
  });
  // A request to no route fails before the not-found handler when its body cannot be parsed
  // (a QUERY without a content type): it still gets the 404 or 405 the path deserves.
  app.setErrorHandler((error, request, reply) =>
    request.is404 ? answerUnrouted(request, reply) : problemErrorHandler(error as FastifyError, request, reply),
  );
  // Each request runs inside its server span: the workflow start, and all that follows, joins its trace.
  app.addHook('onRequest', (request, reply, done) => {
    const { span, run } = startServerSpan(
      `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
      request.headers,
    );
    request.span = span;
    reply.header('x-trace-id', span.spanContext().traceId);
    run(done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status_code: reply.statusCode,
    };
    httpRequests.inc(labels);
    httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
    request.span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) request.span?.setStatus({ code: SpanStatusCode.ERROR });
    request.span?.end();
  });
  const allowedMethods = trackAllowedMethods(app);
  const answerUnrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const allowed = allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, new Problem(405, 'Method not allowed', `${path} takes ${allowed.join(', ')}`));
    }
    return sendProblem(reply, new Problem(404, 'Not found', `No route ${request.method} ${path}`));
  };
  app.setNotFoundHandler(answerUnrouted);

  const directory = new TenantDirectory(options.db);
  // Without a pool of the process's, one of its own (its threads start with the first template).
  const ownRenderPool = () => {
    const pool = createRenderPool();
    app.addHook('onClose', () => pool.close());
    return pool;
  };
  const throttleOptions = { redis: options.redis, failuresAllowed: options.authFailuresPerMinute };
  const keyThrottle = new FailedAuthThrottle('API key', throttleOptions);
  const starts = new StartDispatcher({
    db: options.db,
    temporal: options.temporal,
    taskQueue: options.taskQueue,
    eagerStart: options.eagerStart ?? false,
    burstHoldMs: options.burstHoldMs,
    highPriority: options.highPriority,
    log: app.log,
  });
  // Fastify closes after the requests in flight are answered: their starts are then pending too.
  app.addHook('onClose', () => starts.stop());
  // Under a burst, each request's read of its recipients' preferences joins the others' in one query.
  const groupedReads = new GroupCommit((reads: { tenantId: string; recipientIds: string[] }[]) =>
    readPreferencesGrouped(options.db, reads),
  );
  const preferencesOf = (tenantId: string, recipientIds: string[]) =>
    recipientIds.length > GROUPED_READ_MAX_RECIPIENTS
      ? readManyPreferences(options.db, tenantId, recipientIds)
      : groupedReads.add({ tenantId, recipientIds });
  const linkSecret = once(async () => options.linkSecret ?? storedSecret(options.db, 'link-signing'));
  const context: ApiContext = {
    db: options.db,
    temporal: options.temporal,
    taskQueue: options.taskQueue,
    starts,
    preferencesOf,
    receiptWindowMs: options.receiptWindowMs,
    retryWindowMs: options.retryWindowMs ?? 0,
    experimentEvaluateEveryMs: options.experimentEvaluateEveryMs ?? 60_000,
    linkSecret,
    webhookSecret: options.webhookSecret,
    publicUrl: options.publicUrl,
    twilioAuthToken: options.twilioAuthToken,
    sendgridWebhookPublicKey: options.sendgridWebhookPublicKey,
    authenticate: bearerAuth(directory, keyThrottle, {
      recipientCaller: async (token) => recipientCaller(options.db, await linkSecret(), token),
    }),
    limits: new TenantLimits(options.tenantLimits, options.redis),
    forgetKeys: () => directory.forget(),
    webhookAllowPrivate: options.webhookAllowPrivate ?? false,
    renderer: options.renderer ?? ownRenderPool(),
    inboxStreams,
  };
  // Outside the key: health, the operators' scrape (a key narrows it to the tenant), signed receipts.
  await app.register(healthRoutes, context);
  // A key is optional on the scrape, but a wrong one counts as any other.
  await app.register(async (scrape) => {
    declareProblems(scrape, 429);
    await scrape.register(metricsRoutes, context);
  });
  await app.register(webhookRoutes, context);
  await app.register(linkRoutes, context);
  // The widget's script, for any page; in development, a page that shows it live.
  await app.register(widgetRoutes, {
    ...context,
    demoInbox: options.devOutbox ? { tenantId: 'dev', recipientId: 'ada' } : undefined,
  });
  // The one authentication boundary: nothing inside is parsed, validated or looked up without a key.
  await app.register(
    async (admin) => {
      declareProblems(admin, 429);
      admin.addHook('onRequest', adminAuth(options.adminToken, new FailedAuthThrottle('admin token', throttleOptions)));
      await admin.register(adminRoutes, context);
    },
    { prefix: '/admin' },
  );
  await app.register(async (tenantScoped) => {
    // Every tenant route can answer 403 (the key lacks the scope) and 429 (over the tenant's limits).
    declareProblems(tenantScoped, 403, 429);
    tenantScoped.addHook('onRequest', context.authenticate);
    tenantScoped.addHook('onRequest', limitRequests(context.limits));
    await tenantScoped.register(notifyRoutes, context);
    await tenantScoped.register(statusRoutes, context);
    await tenantScoped.register(broadcastRoutes, context);
    await tenantScoped.register(recipientRoutes, context);
    await tenantScoped.register(inboxRoutes, context);
    await tenantScoped.register(recipientTokenRoutes, context);
    await tenantScoped.register(inboxSettingsRoutes, context);
    await tenantScoped.register(inboxStreamRoutes, context);
    await tenantScoped.register(settingsRoutes, context);
    await tenantScoped.register(actionRoutes, context);
    await tenantScoped.register(preferenceRoutes, context);
    await tenantScoped.register(escalationPolicyRoutes, context);
    await tenantScoped.register(scheduleRoutes, context);
    await tenantScoped.register(auditRoutes, context);
    await tenantScoped.register(templateRoutes, context);
    await tenantScoped.register(experimentRoutes, context);
    await tenantScoped.register(keyRoutes, {
      ...context,
      security: [{ bearer: [] }],
      tenantOf: async (request) => request.tenantId,
      actorOf: (request) => request,
    });
  });
  if (options.devOutbox) {
    await app.register(async (outbox) => {
      declareProblems(outbox, 429);
      await outbox.register(devOutboxRoutes, {
        ...context,
        authenticate: bearerAuth(directory, keyThrottle, { allowQueryKey: true }),
      });
    });
  }
  return app;
}

/**
 * Adds problems every route of this plugin can answer to their schemas, so the OpenAPI document lists
 * them: 429 wherever a credential is checked (too many failed authentications from an address).
 */
function declareProblems(plugin: FastifyInstance, ...statuses: Parameters<typeof problems>) {
  plugin.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, response: { ...(route.schema?.response as object), ...problems(...statuses) } };
  });
}

/** The first call's promise, kept; a failed one is forgotten so the next call tries again. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
}
