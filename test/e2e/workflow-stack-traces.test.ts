import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald } from '../support/herald';
import { notificationWorkflowId } from '../../workflows/definitions';

/**
 * The SDK collects workflow stack traces (for the stack trace query, the Temporal UI's "Stack Trace" tab)
 * with a promise hook that captures a stack for every promise workflow code creates. Herald's workers go
 * without unless HERALD_WORKFLOW_STACK_TRACES=true (patches/@temporalio+worker): the query then says so.
 */
describe('workflow stack traces', () => {
  let smtp: FakeSmtpServer;
  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
  });
  afterAll(() => smtp?.stop());

  /** The stack trace query's answer for a notification sleeping on its receipts, or the error it gave. */
  async function stackTraceOfASleepingNotification(env: Record<string, string>): Promise<string> {
    const herald = await startTestHerald({ SMTP_URL: smtp.url, ...env });
    try {
      const tenant = await herald.createTenant();
      const email = `stack-${tenant.id}@example.com`;
      const res = await herald.api.inject({
        method: 'POST',
        url: '/notify',
        headers: tenant.auth,
        payload: { channels: ['email'], recipients: [{ email }], message: 'waits for its receipts' },
      });
      expect(res.statusCode).toBe(202);
      await eventually(
        async () => smtp.received.filter((m) => m.to.includes(email)).length,
        (n) => n === 1,
      );
      const handle = herald.temporal.workflow.getHandle(
        notificationWorkflowId(tenant.id, res.json<{ notification_id: string }>().notification_id),
      );
      return await handle.query<string>('__stack_trace').catch((error: Error) => `error: ${error.message}`);
    } finally {
      await herald.stop();
    }
  }

  it('are not collected by default, and the query says so', async () => {
    expect(await stackTraceOfASleepingNotification({})).toMatch(/^error: .*stack traces are not enabled/i);
  });

  it('are collected with HERALD_WORKFLOW_STACK_TRACES=true', async () => {
    const trace = await stackTraceOfASleepingNotification({ HERALD_WORKFLOW_STACK_TRACES: 'true' });
    expect(trace).not.toMatch(/^error:/);
    expect(trace).toMatch(/\bat /);
  });
});
