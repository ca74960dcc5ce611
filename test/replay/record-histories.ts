/**
 * Records workflow histories for the replay test: `npm run replay:record`. Run it when a workflow
 * change ships, and keep the old files: every history ever committed must still replay.
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
import { FakeSmtpServer } from '../fakes/smtp-server';
import { testTracing } from '../support/tracing';
import { notificationRequest } from '../support/requests';

const version = process.argv[2] ?? 'v1';

async function main() {
  installTemporalRuntime('ERROR');
  const testServer = ensureTemporalBinary('test-server');
  const cli = ensureTemporalBinary('cli');
  if (!cli) throw new Error('The Temporal CLI is needed to write histories: npm run temporal:install');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: testServer ? { type: 'existing-path', path: testServer } : undefined },
  });
  await registerSearchAttributes(env.nativeConnection, 'default');
  const smtp = await new FakeSmtpServer().start();
  const database = await openDatabase({});
  await upsertTenant(database.db, 'replay', 'Replay', 'hk_replay');
  const providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@replay' });
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

  const scenarios: Record<string, (input: NotificationRequest) => Promise<void>> = {
    'outbox-delivered': async () => {},
    'smtp-receipt-delivered': async (input) => {
      const handle = env.client.workflow.getHandle(`replay-${input.notificationId}`);
      for (;;) {
        const s = await handle.query(statusQuery);
        const id = s.deliveries[0]?.providerMessageId;
        if (id) return handle.signal(receiptSignal, { providerMessageId: id, status: 'delivered' });
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    'smtp-retries-exhausted': async () => {
      smtp.script.push(...Array.from({ length: 6 }, () => ({ code: 421, message: 'Service not available' })));
    },
  };
  const inputs: Record<string, Partial<NotificationRequest>> = {
    'outbox-delivered': { channels: ['sms', 'push'], recipients: [{ id: 'p', phone: '+14155550100' }, { id: 'q' }] },
    'smtp-receipt-delivered': {},
    'smtp-retries-exhausted': {},
  };

  for (const [name, act] of Object.entries(scenarios)) {
    const input = request(inputs[name]!);
    if (name === 'smtp-retries-exhausted') await act(input);
    const handle = await env.client.workflow.start(notificationWorkflow, {
      taskQueue,
      workflowId: `replay-${input.notificationId}`,
      args: [input],
    });
    if (name !== 'smtp-retries-exhausted') await act(input);
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
  await smtp.stop();
  await env.teardown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
