import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald } from '../support/herald';
import { notificationWorkflowId } from '../../workflows/definitions';

/**
 * The stack trace query (the Temporal UI's "Stack Trace" tab) shows where a running workflow waits: the
 * SDK collects the stacks with a promise hook in every workflow thread, and Herald's workers keep it.
 */
describe('workflow stack traces', () => {
  let smtp: FakeSmtpServer;
  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
  });
  afterAll(() => smtp?.stop());

  /** The stack trace query's answer for a notification sleeping on its receipts. */
  async function stackTraceOfASleepingNotification(): Promise<string> {
    const herald = await startTestHerald({ SMTP_URL: smtp.url });
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
      return await handle.query<string>('__stack_trace');
    } finally {
      await herald.stop();
    }
  }

  it('answer the stack trace query with where a notification waits', async () => {
    // A frame in Herald's own workflow code, beneath the SDK's.
    expect(await stackTraceOfASleepingNotification()).toMatch(/^\s+at \S+ \(\S*\/workflows\/\S+\.ts:\d+:\d+\)$/m);
  }, 240_000);
});
