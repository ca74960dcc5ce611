/**
 * Records workflow histories for the replay test: `npm run replay:record -- <version> [scenario ...]`.
 * Run it when a workflow change ships, under a new version, and keep the old files: every history ever
 * committed must still replay.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { buildProviders, closeProviders } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import { openDatabase } from '../../db/connect';
import type { NotificationRequest } from '../../domain/notification';
import { installTemporalRuntime } from '../../runtime/temporal';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { notificationWorkflow } from '../../workflows';
import { receiptSignal, statusQuery } from '../../workflows/definitions';
import { registerSearchAttributes } from '../../worker/search-attributes';
import { HeraldWorker } from '../../worker/worker';
import { loadConfig } from '../../runtime/config';
import type { WorkflowHandle } from '@temporalio/client';
import { startFakeProviders, type FakeProviders } from '../support/fake-providers';
import { testTracing } from '../support/tracing';
import { notificationRequest } from '../support/requests';

const version = process.argv[2] ?? 'v2';

/** Waits until the workflow's first delivery knows its provider id, then signals receipts for it. */
async function receipts(handle: WorkflowHandle, statuses: ('sent' | 'delivered')[]) {
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
  input: Partial<NotificationRequest>;
  /** Before the workflow starts: script the fakes. */
  before?: (fakes: FakeProviders) => void;
  /** While it runs. */
  during?: (handle: WorkflowHandle) => Promise<void>;
}

const sms = { channels: ['sms' as const], recipients: [{ id: 'p', phone: '+14155550100' }] };

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
  'sms-permanent-failure-dead-letter': {
    input: sms,
    before: (fakes) => fakes.twilio.faults.push({ status: 400, body: { code: 21211, message: 'Invalid To' } }),
  },
  'sms-receipts-duplicate-and-out-of-order': {
    input: sms,
    during: (handle) => receipts(handle, ['delivered', 'delivered', 'sent']),
  },
};

async function main() {
  installTemporalRuntime('ERROR');
  const testServer = ensureTemporalBinary('test-server');
  const cli = ensureTemporalBinary('cli');
  if (!cli) throw new Error('The Temporal CLI is needed to write histories: npm run temporal:install');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: testServer ? { type: 'existing-path', path: testServer } : undefined },
  });
  await registerSearchAttributes(env.nativeConnection, 'default');
  const fakes = await startFakeProviders();
  const database = await openDatabase({});
  await upsertTenant(database.db, 'replay', 'Replay', 'hk_replay');
  // Email has SMTP alone (its retries run out) and push has no provider (it delivers to the dev outbox).
  const { SENDGRID_API_KEY: _sendgrid, FCM_PROJECT_ID: _fcm, ...providerEnv } = fakes.env;
  const providers = buildProviders(database.db, loadConfig(providerEnv).providers);
  const taskQueue = 'replay';
  const worker = await HeraldWorker.start({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({ db: database.db, providers }),
    shutdownGraceMs: 0,
    tracing: testTracing(),
  });

  const request = (overrides: Partial<NotificationRequest>) =>
    notificationRequest({ tenantId: 'replay', createdAt: '2026-01-01T00:00:00.000Z', ...overrides });

  const only = process.argv.slice(3);
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const input = request(scenario.input);
    scenario.before?.(fakes);
    const handle = await env.client.workflow.start(notificationWorkflow, {
      taskQueue,
      workflowId: `replay-${input.notificationId}`,
      args: [input],
    });
    await scenario.during?.(handle);
    await handle.result();
    const file = path.join(__dirname, 'histories', `${version}-${name}.json`);
    // The CLI writes the canonical proto JSON that `temporal workflow show` users know.
    const json = execFileSync(cli, [
      'workflow',
      'show',
      '--address',
      env.address,
      '-w',
      handle.workflowId,
      '--output',
      'json',
    ]);
    writeFileSync(file, json);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }

  await worker.shutdown();
  await closeProviders(providers);
  await database.close();
  await fakes.stop();
  await env.teardown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
