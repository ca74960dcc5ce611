import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { finishedSpans } from '../support/tracing';

describe('tracing one notification', () => {
  let smtp: FakeSmtpServer;
  let herald: TestHerald;
  let tenant: TestTenant;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    herald = await startTestHerald({ SMTP_URL: smtp.url, HERALD_RECEIPT_WINDOW_SECONDS: '0' });
    tenant = await herald.createTenant();
  });
  afterAll(async () => {
    await herald?.stop();
    await smtp?.stop();
  });

  it('links the API, workflow, activity and provider call in one trace whose id the response carries', async () => {
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { channels: ['email'], recipients: [{ email: 'trace@example.com' }], message: 'traced' },
    });
    expect(res.statusCode).toBe(202);
    const traceId = res.headers['x-trace-id'] as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await eventually(
      async () => finishedSpans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId),
      (found) => found.some((s) => s.name === 'RunWorkflow:notification'),
    );
    const names = spans.map((s) => s.name);
    const named = (name: string) => spans.find((s) => s.name === name)!;
    // The provider call is a child of the activity that made it.
    expect(named('smtp send').parentSpanId).toBe(named('RunActivity:deliver').spanContext().spanId);
    expect(named('smtp send').attributes).toMatchObject({ 'herald.channel': 'email', 'herald.provider': 'smtp' });
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /notify',
        'StartWorkflow:notification',
        'RunWorkflow:notification',
        'StartActivity:deliver',
        'RunActivity:deliver',
        'smtp send',
        'RunActivity:recordNotification',
      ]),
    );
  });

  it('continues a trace the caller started with a traceparent header', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await herald.api.inject({
      method: 'GET',
      url: '/healthz',
      headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
    });
    expect(res.headers['x-trace-id']).toBe(callerTrace);
  });
});
