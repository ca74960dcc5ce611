import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { finishedSpans } from '../support/tracing';

/** A Herald with an SMTP server and a tenant, started and stopped around the calling describe block. */
function heraldWithSmtp(workflowSpans: boolean) {
  const ctx = {} as { smtp: FakeSmtpServer; herald: TestHerald; tenant: TestTenant };
  beforeAll(async () => {
    ctx.smtp = await new FakeSmtpServer().start();
    ctx.herald = await startTestHerald(
      { SMTP_URL: ctx.smtp.url, HERALD_RECEIPT_WINDOW_SECONDS: '0' },
      { workflowSpans },
    );
    ctx.tenant = await ctx.herald.createTenant();
  });
  afterAll(async () => {
    await ctx.herald?.stop();
    await ctx.smtp?.stop();
  });
  return ctx;
}

async function notify({ herald, tenant }: { herald: TestHerald; tenant: TestTenant }, email: string): Promise<string> {
  const res = await herald.api.inject({
    method: 'POST',
    url: '/notify',
    headers: tenant.auth,
    payload: { channels: ['email'], recipients: [{ email }], message: 'traced' },
  });
  expect(res.statusCode).toBe(202);
  const traceId = res.headers['x-trace-id'] as string;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  return traceId;
}

const inTrace = (traceId: string) => () =>
  Promise.resolve(finishedSpans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId));

describe('tracing one notification', () => {
  const ctx = heraldWithSmtp(true);

  it('links the API, workflow, activity and provider call in one trace whose id the response carries', async () => {
    const traceId = await notify(ctx, 'trace@example.com');
    const spans = await eventually(inTrace(traceId), (found) =>
      found.some((s) => s.name === 'RunWorkflow:notification'),
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
    const res = await ctx.herald.api.inject({
      method: 'GET',
      url: '/healthz',
      headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
    });
    expect(res.headers['x-trace-id']).toBe(callerTrace);
  });
});

describe('tracing without workflow spans (spans kept in the process)', () => {
  const ctx = heraldWithSmtp(false);

  it("still runs the activities and the provider call in the request's trace", async () => {
    const traceId = await notify(ctx, 'propagated@example.com');
    const spans = await eventually(inTrace(traceId), (found) =>
      found.some((s) => s.name === 'RunActivity:recordNotification'),
    );
    const named = (name: string) => spans.find((s) => s.name === name)!;
    expect(named('smtp send').parentSpanId).toBe(named('RunActivity:deliver').spanContext().spanId);
    // The activity's parent is the client's start span: the workflow made none in between.
    expect(named('RunActivity:deliver').parentSpanId).toBe(named('StartWorkflow:notification').spanContext().spanId);
    expect(
      spans.map((s) => s.name).filter((name) => name.startsWith('RunWorkflow') || name.startsWith('StartActivity')),
    ).toEqual([]);
  });
});
