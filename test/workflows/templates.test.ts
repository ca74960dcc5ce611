import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { buildProviders, closeProviders, type ProvidersByChannel } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { findExperiment } from '../../db/experiments';
import { devOutbox } from '../../db/schema';
import { findTemplate, publishTemplateVersion, saveTemplateVersion } from '../../db/templates';
import { sha256 } from '../../domain/sha256';
import type { TemplateContent } from '../../domain/templates/content';
import { createRenderPool, type RenderPool } from '../../runtime/render-pool';
import { experimentWorkflow, notification } from '../../workflows';
import { stopExperimentSignal } from '../../workflows/definitions';
import type { HeraldWorker } from '../../worker/worker';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { seedExperiment } from '../support/experiments';
import { testDatabase } from '../support/herald';
import { notificationRequest } from '../support/requests';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

const MINUTE = 60_000;
const links = { secret: 'templates-test-link-secret-0123456789abcdef', publicUrl: 'https://herald.test' };

describe('templated notifications and experiments in workflows (time-skipping server, real activities)', () => {
  let env: TestWorkflowEnvironment;
  let smtp: FakeSmtpServer;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let renderer: RenderPool;
  let worker: HeraldWorker;
  const taskQueue = `templates-${randomUUID()}`;
  const tenantId = `tenant-templates-${randomUUID().slice(0, 8)}`;

  const save = async (key: string, content: TemplateContent) =>
    (
      await saveTemplateVersion(database.db, tenantId, key, {
        contentHash: sha256(JSON.stringify(content)),
        content,
        references: [],
        missingTranslations: {},
      })
    ).version;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    database = await testDatabase();
    await upsertTenant(database.db, tenantId, 'Template tests', `hk_${randomUUID()}`);
    providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
    renderer = createRenderPool();
    env = await startTimeSkippingServer();
    worker = await startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers, links, renderer }));
  }, 120_000);
  afterAll(async () => {
    await worker?.shutdown();
    await env?.teardown();
    await renderer?.close();
    if (providers) await closeProviders(providers);
    await database?.close();
    await smtp?.stop();
  });

  it('renders the pinned version in a fallback step, though another was published after the primary failed', async () => {
    await save('receipt', {
      email: { subject: 'Receipt', html: '<p>Hello {{ name }}</p>' },
      sms: { text: 'v1: hello {{ name }}' },
    });
    smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
    const input = notificationRequest({
      tenantId,
      channels: ['email'],
      recipients: [{ id: 'ada', email: 'ada@example.com', phone: '+14155550100' }],
      message: {
        text: '',
        template: { key: 'receipt', version: 1, partials: {}, data: { name: 'Ada' }, trackClicks: false },
      },
      fallback: { channels: ['sms'], afterMs: 10 * MINUTE, unless: 'delivered' },
    });
    const handle = await env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `wf-${input.notificationId}`,
      args: [input],
    });
    // The primary fails at once; v2 goes live before the fallback's ten minutes are up.
    await env.sleep(MINUTE);
    const v2 = await save('receipt', { sms: { text: 'v2: {{ name }}' } });
    await publishTemplateVersion(database.db, tenantId, 'receipt', v2);
    const done = await handle.result();
    const sms = done.deliveries.find((d) => d.channel === 'sms')!;
    expect(sms).toMatchObject({ status: 'delivered', details: { template: 'receipt', version: 1 } });
    const [row] = await database.db.select().from(devOutbox).where(eq(devOutbox.notificationId, input.notificationId));
    expect(row!.text).toBe('v1: hello Ada');
  });

  it('fails a delivery whose template cannot render, at once and for good, with the reason', async () => {
    await save('strict', { sms: { text: 'Hi {{ missing.value }}' } });
    const input = notificationRequest({
      tenantId,
      channels: ['sms'],
      recipients: [{ id: 'bo', phone: '+14155550101' }],
      message: { text: '', template: { key: 'strict', version: 1, partials: {}, data: {}, trackClicks: false } },
    });
    const done = await env.client.workflow.execute(notification, {
      taskQueue,
      workflowId: `wf-${input.notificationId}`,
      args: [input],
    });
    expect(done.status).toBe('failed');
    expect(done.deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringMatching(/template did not render.*missing/),
    });
  });

  async function experiment(clicks: [number, number]) {
    const key = `exp-${randomUUID().slice(0, 8)}`;
    await save(key, { sms: { text: 'A' } });
    await save(key, { sms: { text: 'B' } });
    const id = randomUUID();
    await seedExperiment(database.db, { tenantId, id, key, clicks });
    return { key, id };
  }

  it('looks at an experiment on its schedule and makes the winner live', async () => {
    const { key, id } = await experiment([3, 40]);
    const handle = await env.client.workflow.start(experimentWorkflow, {
      taskQueue,
      workflowId: `experiment-${id}`,
      args: [{ tenantId, experimentId: id, evaluateEveryMs: 60_000 }],
    });
    expect(await handle.result()).toBe('winner');
    expect((await findExperiment(database.db, tenantId, id))!.state).toBe('winner');
    expect((await findTemplate(database.db, tenantId, key))!.liveVersion).toBe(2);
  });

  it('ends an experiment with the control when stopped before a variant won', async () => {
    const { key, id } = await experiment([10, 11]);
    const handle = await env.client.workflow.start(experimentWorkflow, {
      taskQueue,
      workflowId: `experiment-${id}`,
      args: [{ tenantId, experimentId: id, evaluateEveryMs: 3_600_000 }],
    });
    await handle.signal(stopExperimentSignal);
    expect(await handle.result()).toBe('no_winner');
    const stored = (await findExperiment(database.db, tenantId, id))!;
    expect(stored.state).toBe('no_winner');
    expect(stored.result!.reason).toMatch(/control/i);
    expect((await findTemplate(database.db, tenantId, key))!.liveVersion).toBe(1);
  });

  it('ends at its end without a winner when none has won', async () => {
    const { id } = await experiment([10, 11]);
    const handle = await env.client.workflow.start(experimentWorkflow, {
      taskQueue,
      workflowId: `experiment-${id}`,
      args: [
        {
          tenantId,
          experimentId: id,
          evaluateEveryMs: 60_000,
          endsAt: new Date((await env.currentTimeMs()) + 10 * MINUTE).toISOString(),
        },
      ],
    });
    expect(await handle.result()).toBe('no_winner');
  });
});
