/**
 * Records workflow histories for the replay test: `npm run replay:record -- <version> [scenario ...]`.
 * Run it when a workflow change ships, under a new version, and keep the old files: every history ever
 * committed must still replay.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../activities';
import { buildProviders, closeProviders } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import { openDatabase } from '../../db/connect';
import type { NotificationRequest, NotificationSnapshot } from '../../domain/notification';
import type { Database } from '../../db/connect';
import { changePreferences } from '../../db/preferences';
import { installTemporalRuntime } from '../../runtime/temporal';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { eq } from 'drizzle-orm';
import { storeBroadcast } from '../../db/broadcasts';
import { broadcasts, deliveries } from '../../db/schema';
import { broadcastChunkWorkflowId, chunksOf, type BroadcastRequest } from '../../domain/broadcast';
import { broadcastWorkflow, experimentWorkflow, notification } from '../../workflows';
import { publishTemplateVersion, saveTemplateVersion } from '../../db/templates';
import { sha256 } from '../../domain/sha256';
import type { TemplateContent } from '../../domain/templates/content';
import { createRenderPool } from '../../runtime/render-pool';
import {
  acknowledgeSignal,
  cancelSignal,
  stopExperimentSignal,
  forgetRecipientSignal,
  receiptSignal,
  resolveSignal,
  retrySignal,
  statusQuery,
} from '../../workflows/definitions';
import { loadConfig } from '../../runtime/config';
import type { WorkflowHandle } from '@temporalio/client';
import { startFakeProviders, type FakeProviders } from '../support/fake-providers';
import { seedExperiment } from '../support/experiments';
import {
  escalationAcrossRuns,
  everyRun,
  receiptsAcrossRuns,
  reopenedUntilTheLimit,
  startEarlyContinuingServer,
} from '../support/long-histories';
import { heldOutcomeRecord } from '../support/held-outcome-record';
import { notificationRequest } from '../support/requests';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

const version = process.argv[2] ?? 'v2';

/** Waits until the workflow's first delivery knows its provider id, then signals receipts for it. */
async function receipts(handle: WorkflowHandle, statuses: ('sent' | 'delivered' | 'opened')[]) {
  for (;;) {
    const s = await handle.query(statusQuery);
    const id = s.deliveries[0]?.providerMessageId;
    if (id) {
      for (const status of statuses) await handle.signal(receiptSignal, { providerMessageId: id, status });
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Scenario {
  /** The request, or how to make it from the test server's clock. */
  input: Partial<NotificationRequest> | ((env: TestWorkflowEnvironment) => Promise<Partial<NotificationRequest>>);
  /** Before the workflow starts: script the fakes, store preferences. */
  before?: (fakes: FakeProviders, db: Database, env: TestWorkflowEnvironment) => unknown;
  /** While it runs; `env` skips time. */
  during?: (handle: WorkflowHandle, env: TestWorkflowEnvironment) => Promise<void>;
  /** The worker's activities, when not Herald's own. */
  activities?: (real: Activities) => Activities;
  /** Settings of its own for the providers (circuit breaking). */
  providerSettings?: Record<string, string>;
}

const sms = { channels: ['sms' as const], recipients: [{ id: 'p', phone: '+14155550100' }] };
const oncall = { channels: ['push' as const], recipients: [{ id: 'ada', phone: '+14155550100', pushTokens: ['d'] }] };
const MINUTE = 60_000;
const escalation = {
  steps: [
    { afterMs: MINUTE, channels: ['sms' as const], unless: 'acknowledged' as const },
    { afterMs: 5 * MINUTE, channels: ['voice' as const], unless: 'acknowledged' as const },
  ],
  repeat: 0,
};
const ack = (by: string) => ({ by, at: '2026-01-01T00:00:00.000Z', via: 'api' as const });
/** Until the status query says so, in real time (queries do not skip the test server's clock). */
async function until(handle: WorkflowHandle, done: (s: NotificationSnapshot) => boolean) {
  while (!done(await handle.query(statusQuery))) await new Promise((r) => setTimeout(r, 50));
}
/** Quiet hours around the test server's clock, in UTC. */
async function quietNow(env: TestWorkflowEnvironment) {
  const hour = new Date(await env.currentTimeMs()).getUTCHours();
  const clock = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  return { start: clock(hour - 1), end: clock(hour + 2), timezone: 'UTC' };
}

/** The recording's database, for scenarios that change stored rows while a workflow runs. */
let database: Awaited<ReturnType<typeof openDatabase>> | undefined;

/** Saves a template version as the API does, for the tenant `replay`; the first goes live, `publish` makes a later one live. */
async function saveVersion(db: Database, key: string, content: TemplateContent, publish = false) {
  const saved = await saveTemplateVersion(db, 'replay', key, {
    contentHash: sha256(JSON.stringify(content)),
    content,
    references: [],
    missingTranslations: {},
  });
  if (publish) await publishTemplateVersion(db, 'replay', key, saved.version);
  return saved.version;
}

/** The outcome's record the scenario below holds, made with its worker. */
let heldRecord: ReturnType<typeof heldOutcomeRecord> | undefined;

const scenarios: Record<string, Scenario> = {
  'outbox-delivered': {
    input: {
      channels: ['push', 'in_app'],
      recipients: [
        { id: 'p', pushTokens: ['device-p'] },
        { id: 'q', pushTokens: ['device-q'] },
      ],
    },
  },
  'smtp-receipt-delivered': { input: {}, during: (handle) => receipts(handle, ['delivered']) },
  'smtp-retries-exhausted': {
    input: {},
    before: (fakes) =>
      fakes.smtp.script.push(...Array.from({ length: 6 }, () => ({ code: 421, message: 'Service not available' }))),
  },
  'sms-failover-to-second-provider': {
    input: sms,
    before: (fakes) => fakes.twilio.faults.push(...[1, 2, 3].map(() => ({ status: 503, body: { code: 20500 } }))),
  },
  'sms-circuit-opened-between-tries': {
    input: sms,
    // One failed send opens Twilio's circuit: the retry passes over it and sends through Vonage.
    providerSettings: { HERALD_CIRCUIT_MIN_REQUESTS: '1' },
    before: (fakes) => fakes.twilio.faults.push({ status: 503, body: { code: 20500 } }),
  },
  'sms-permanent-failure-dead-letter': {
    input: sms,
    before: (fakes) => fakes.twilio.faults.push({ status: 400, body: { code: 21211, message: 'Invalid To' } }),
  },
  'sms-receipts-duplicate-and-out-of-order': {
    input: sms,
    during: (handle) => receipts(handle, ['delivered', 'delivered', 'sent']),
  },
  'fallback-after-failed-primary': {
    input: {
      channels: ['push'],
      recipients: [{ id: 'p', phone: '+14155550100' }],
      fallback: { channels: ['telegram', 'sms'], afterMs: 10 * MINUTE, unless: 'delivered' },
    },
  },
  'fallback-skipped-by-receipt': {
    input: { fallback: { channels: ['sms'], afterMs: 5 * MINUTE, unless: 'delivered' } },
    during: (handle) => receipts(handle, ['delivered']),
  },
  // An in-app message read in the inbox: its `opened` receipt meets `unless: read`.
  'fallback-skipped-by-inbox-read': {
    input: {
      channels: ['in_app'],
      recipients: [{ id: 'reader', email: 'reader@example.com' }],
      fallback: { channels: ['email'], afterMs: 5 * MINUTE, unless: 'read' },
    },
    during: (handle) => receipts(handle, ['opened']),
  },
  'escalation-acknowledged': {
    input: { ...oncall, escalation },
    during: async (handle, env) => {
      await until(handle, (s) => s.deliveries[0]?.status === 'delivered');
      await env.sleep(MINUTE + 1000);
      await until(handle, (s) => s.deliveries.length === 2 && s.deliveries[1]!.status !== 'sending');
      await handle.signal(acknowledgeSignal, ack('ada'));
    },
  },
  'escalation-repeated-unacknowledged': { input: { ...oncall, escalation: { ...escalation, repeat: 1 } } },
  'escalation-reopened-then-resolved': {
    input: { ...oncall, escalation: { ...escalation, ackTimeoutMs: 30 * MINUTE } },
    during: async (handle, env) => {
      await until(handle, (s) => s.deliveries[0]?.status === 'delivered');
      await handle.signal(acknowledgeSignal, ack('ada'));
      await until(handle, (s) => s.timeline!.filter((e) => e.event === 'skipped').length === 2);
      await env.sleep(31 * MINUTE);
      await until(handle, (s) => s.deliveries.length === 2);
      await handle.signal(acknowledgeSignal, ack('grace'));
      await handle.signal(resolveSignal, { by: 'grace' });
    },
  },
  'quiet-hours-held-then-sent': {
    input: { channels: ['push'], recipients: [{ id: 'sleeper', pushTokens: ['d'] }] },
    before: async (_fakes, db, env) => {
      const quietHours = await quietNow(env);
      await changePreferences(db, 'replay', 'sleeper', () => ({ quietHours }));
    },
  },
  'scheduled-then-cancelled': {
    input: { channels: ['push'], recipients: [{ id: 'p', pushTokens: ['d'] }], sendAt: '2100-01-01T09:00:00.000Z' },
    during: async (handle) => {
      await until(handle, (s) => s.status === 'scheduled');
      await handle.signal(cancelSignal, { by: 'ops' });
    },
  },
  'preferences-suppress-and-critical': {
    input: { channels: ['sms', 'in_app'], recipients: [{ id: 'picky', phone: '+14155550100' }], category: 'marketing' },
    before: (_fakes, db) =>
      changePreferences(db, 'replay', 'picky', () => ({ categories: { marketing: { channels: { sms: false } } } })),
  },
  'plans-at-accept-sent-at-once': {
    input: {
      channels: ['push', 'sms'],
      recipients: [{ id: 'p', pushTokens: ['d'], phone: '+14155550100' }],
      recipientPlans: { p: { blockedChannels: ['sms'] } },
    },
  },
  'plans-at-accept-held-then-reread': {
    input: async (env) => ({
      channels: ['push'],
      recipients: [{ id: 'p', pushTokens: ['d'] }],
      recipientPlans: {
        p: { blockedChannels: [], quietUntil: new Date((await env.currentTimeMs()) + 3_600_000).toISOString() },
      },
    }),
  },
  'recipient-forgotten-mid-escalation': {
    input: {
      ...oncall,
      recipients: [...oncall.recipients, { id: 'grace', phone: '+14155550101', pushTokens: ['g'] }],
      escalation,
    },
    during: async (handle) => {
      await until(handle, (s) => s.deliveries.filter((d) => d.status === 'delivered').length === 2);
      await handle.signal(forgetRecipientSignal, { recipientId: 'grace', by: 'hk_0123456789' });
    },
  },
  // As the API starts it since it records the row at accept: no record before the sends.
  'recorded-at-accept-sms-receipts': {
    input: { ...sms, recordedByApi: true },
    during: (handle) => receipts(handle, ['delivered', 'delivered', 'sent']),
  },
  // As the API starts it, several recipients' sends of one channel in one activity: one fails for now and
  // goes again, one has no phone.
  'several-recipients-batched-sends': {
    input: {
      channels: ['sms'],
      recipients: [{ id: 'a', phone: '+14155550100' }, { id: 'b', phone: '+14155550101' }, { id: 'no-phone' }],
      recordedByApi: true,
      recipientPlans: {},
    },
    before: (fakes) => fakes.twilio.faults.push({ status: 503, body: { code: 20500 } }),
  },
  // Three recipients wake at send_at on one timer and read their preferences in one activity: one switched
  // SMS off for the category, one is in quiet hours and is held, then read again alone when they end.
  'several-recipients-shared-waits': {
    input: async (env) => ({
      channels: ['sms'],
      category: 'marketing',
      recipients: ['picky', 'plain', 'sleeper'].map((id) => ({ id, phone: '+14155550100' })),
      sendAt: new Date((await env.currentTimeMs()) + 3_600_000).toISOString(),
    }),
    before: async (_fakes, db, env) => {
      await changePreferences(db, 'replay', 'picky', () => ({
        categories: { marketing: { channels: { sms: false } } },
      }));
      const quietHours = await quietNow(env);
      await changePreferences(db, 'replay', 'sleeper', () => ({ quietHours }));
    },
  },
  // A bounce lands while the outcome's record runs (the local record fails, the regular one is held).
  'receipt-while-outcome-recorded': {
    input: {},
    activities: (real) => {
      heldRecord = heldOutcomeRecord(real);
      return heldRecord.activities;
    },
    during: async (handle) => {
      await heldRecord!.running;
      const { deliveries } = await handle.query(statusQuery);
      await handle.signal(receiptSignal, { providerMessageId: deliveries[0]!.providerMessageId!, status: 'bounced' });
      await until(handle, (s) => s.status === 'failed');
      heldRecord!.release();
    },
  },
  // A templated email fails for good; a new version is published before the SMS fallback, which still renders
  // the version pinned at accept.
  'templated-pinned-across-publish': {
    input: {
      channels: ['email'],
      recipients: [{ id: 'ada', email: 'ada@example.com', phone: '+14155550100', locale: 'fr' }],
      message: {
        text: '',
        template: { key: 'receipt', version: 1, partials: {}, data: { name: 'Ada' }, trackClicks: false },
      },
      fallback: { channels: ['sms'], afterMs: 10 * MINUTE, unless: 'delivered' },
    },
    before: async (fakes, db) => {
      fakes.smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
      await saveVersion(db, 'receipt', {
        email: { subject: 'Reçu', html: '<p>{{ "hello" | t: name: name }}</p>' },
        sms: { text: '{{ "hello" | t: name: name }}' },
        locales: { en: { hello: 'Hello {{ name }}' }, fr: { hello: 'Bonjour {{ name }}' } },
      });
    },
    during: async (handle) => {
      await until(handle, (s) => s.deliveries[0]?.status === 'failed');
      await saveVersion(database!.db, 'receipt', { sms: { text: 'v2 {{ name }}' } }, true);
    },
  },
  'failed-then-operator-retry': {
    input: { retryWindowMs: 86_400_000 },
    before: (fakes) => fakes.smtp.script.push({ code: 550, message: 'Mailbox unavailable' }),
    during: async (handle) => {
      await until(handle, (s) => s.retryable === true);
      await handle.signal(retrySignal, { by: 'ops' });
    },
  },
};

async function main() {
  installTemporalRuntime('ERROR');
  const cli = ensureTemporalBinary('cli');
  if (!cli) throw new Error('The Temporal CLI is needed to write histories: npm run temporal:install');
  const fakes = await startFakeProviders();
  const opened = await openDatabase({});
  database = opened;
  const renderer = createRenderPool();
  await upsertTenant(opened.db, 'replay', 'Replay', 'hk_replay');
  // Email has SMTP alone (its retries run out) and push has no provider (it delivers to the dev outbox).
  const { SENDGRID_API_KEY: _sendgrid, FCM_PROJECT_ID: _fcm, ...providerEnv } = fakes.env;
  const providers = buildProviders(opened.db, loadConfig(providerEnv).providers);
  const links = { secret: 'replay-link-secret-0123456789abcdef0123', publicUrl: 'https://herald.example' };
  const taskQueue = 'replay';

  const request = (overrides: Partial<NotificationRequest>) =>
    notificationRequest({ tenantId: 'replay', createdAt: '2026-01-01T00:00:00.000Z', ...overrides });

  const only = process.argv.slice(3);
  const wanted = (name: string) => only.length === 0 || only.includes(name);

  /** A test server and worker of their own: skipped time in one scenario cannot leak into the next. */
  const withServer = async (
    run: (env: TestWorkflowEnvironment) => Promise<void>,
    activities = (real: Activities) => real,
    providerSettings?: Record<string, string>,
  ) => {
    const env = await startTimeSkippingServer();
    const own =
      providerSettings && buildProviders(opened.db, loadConfig({ ...providerEnv, ...providerSettings }).providers);
    const real = createActivities({ db: opened.db, providers: own ?? providers, links, renderer });
    const worker = await startWorkerOn(env, taskQueue, activities(real));
    await run(env);
    await worker.shutdown();
    if (own) await closeProviders(own);
    await env.teardown();
  };
  const writeHistory = (env: TestWorkflowEnvironment, workflowId: string, name: string, runId?: string) => {
    const file = path.join(__dirname, 'histories', `${version}-${name}.json`);
    // The CLI writes the canonical proto JSON that `temporal workflow show` users know.
    const json = execFileSync(cli, [
      'workflow',
      'show',
      '--address',
      env.address,
      '-w',
      workflowId,
      ...(runId ? ['-r', runId] : []),
      '--output',
      'json',
    ]);
    writeFileSync(file, json);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  };

  for (const [name, scenario] of Object.entries(scenarios)) {
    if (!wanted(name)) continue;
    await withServer(
      async (env) => {
        const input = request(typeof scenario.input === 'function' ? await scenario.input(env) : scenario.input);
        await scenario.before?.(fakes, opened.db, env);
        const handle = await env.client.workflow.start(notification, {
          taskQueue,
          workflowId: `replay-${input.notificationId}`,
          args: [input],
        });
        await scenario.during?.(handle, env);
        await handle.result();
        writeHistory(env, handle.workflowId, name);
      },
      scenario.activities,
      scenario.providerSettings,
    );
  }

  // A broadcast of two chunks, one recipient in quiet hours: the parent's history and the held chunk's.
  if (wanted('broadcast')) {
    await withServer(async (env) => {
      const broadcastId = 'replay-broadcast';
      const recipients = [
        { id: 'night-owl', email: 'night-owl@example.com' },
        { id: 'early-bird', email: 'early-bird@example.com' },
        { id: 'lark', email: 'lark@example.com' },
      ];
      const quietHours = await quietNow(env);
      await changePreferences(opened.db, 'replay', 'night-owl', () => ({ quietHours }));
      const input: BroadcastRequest = {
        tenantId: 'replay',
        broadcastId,
        channels: ['email'],
        message: { subject: 'Weekly digest', text: 'What happened this week' },
        priority: 'low',
        createdAt: '2026-01-01T00:00:00.000Z',
        chunkCount: 2,
      };
      await opened.db.delete(broadcasts).where(eq(broadcasts.id, broadcastId));
      await opened.db.delete(deliveries).where(eq(deliveries.notificationId, broadcastId));
      await storeBroadcast(opened.db, input, chunksOf(recipients, 2), 'replay');
      const workflowId = `replay-${broadcastId}`;
      await env.client.workflow.execute(broadcastWorkflow, { taskQueue, workflowId, args: [input] });
      writeHistory(env, workflowId, 'broadcast');
      writeHistory(env, broadcastChunkWorkflowId('replay', broadcastId, 0), 'broadcast-chunk-held');
    });
  }

  // An experiment whose first look finds a winner and makes it live, and one stopped before any winner.
  for (const [name, outcomes] of Object.entries<[number, number]>({
    'experiment-decided': [3, 40],
    'experiment-stopped': [10, 11],
  })) {
    if (!wanted(name)) continue;
    await withServer(async (env) => {
      const key = `exp-${name}`;
      await saveVersion(opened.db, key, { sms: { text: 'A' } });
      await saveVersion(opened.db, key, { sms: { text: 'B' } });
      const experimentId = `replay-${name}-${Date.now()}`;
      // 60 recipients each saw a variant; the counts of clicks per variant are the scenario's.
      await seedExperiment(opened.db, {
        tenantId: 'replay',
        id: experimentId,
        key,
        clicks: outcomes as [number, number],
      });
      const handle = await env.client.workflow.start(experimentWorkflow, {
        taskQueue,
        workflowId: `replay-${experimentId}`,
        args: [{ tenantId: 'replay', experimentId, evaluateEveryMs: 60_000 }],
      });
      if (name === 'experiment-stopped') await handle.signal(stopExperimentSignal);
      await handle.result();
      writeHistory(env, handle.workflowId, name);
    });
  }

  // Notifications whose histories carried on as new runs, on a dev server that suggests it early: each run's history.
  const continuing = {
    'continued-receipts': receiptsAcrossRuns,
    'continued-mid-escalation': escalationAcrossRuns,
    'reopened-until-the-limit': reopenedUntilTheLimit,
  };
  for (const [name, scenario] of Object.entries(continuing)) {
    if (!wanted(name)) continue;
    const env = await startEarlyContinuingServer();
    const worker = await startWorkerOn(env, taskQueue, createActivities({ db: opened.db, providers, links }));
    // Sends a provider only accepted wait a second for receipts, unless the scenario waits for them itself.
    const input = request({ receiptWindowMs: 1000, ...scenario.request(), boundedHistory: true });
    const handle = await env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `replay-${input.notificationId}`,
      args: [input],
    });
    await scenario.drive(handle);
    await handle.result();
    const runs = await everyRun(env.client, handle);
    runs.forEach((history, i) => {
      const runId = history.events![0]!.workflowExecutionStartedEventAttributes!.originalExecutionRunId!;
      writeHistory(env, handle.workflowId, `${name}-run${i + 1}`, runId);
    });
    await worker.shutdown();
    await env.teardown();
  }

  await closeProviders(providers);
  await renderer.close();
  await opened.close();
  await fakes.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
