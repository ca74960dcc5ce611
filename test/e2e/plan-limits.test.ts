import { temporal } from '@temporalio/proto';
import { MAX_PLANNED_DELIVERIES } from '../../domain/plan-size';
import { notificationWorkflowId } from '../../workflows/definitions';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/** Temporal warns past this many events in one history, and fails it at 51,200. */
const HISTORY_WARNING_EVENTS = 10_240;

/** Ten escalation steps of one channel each, a second apart: eleven deliveries per recipient. */
const tenSteps = {
  steps: Array.from({ length: 10 }, () => ({ after: '1s', channels: ['in_app'] })),
};
const recipients = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `oncall-${i}`, push_tokens: [`d${i}`] }));

describe('how much one notification may plan', () => {
  let herald: TestHerald;
  let tenant: TestTenant;

  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
  });
  afterAll(() => herald?.stop());

  const notify = (body: object) =>
    herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { message: 'Disk full', ...body },
    });

  it('refuses, naming recipients, a plan whose recipients would make more deliveries than a notification carries', async () => {
    // 1,000 recipients on every channel: 10,000 deliveries, whose state outgrows Temporal's 2 MB payloads.
    const everyChannel = ['email', 'sms', 'push', 'voice', 'telegram', 'slack', 'discord', 'webhook', 'in_app'];
    const wide = await notify({
      channels: everyChannel,
      recipients: Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, email: `r${i}@example.com` })),
    });
    expect(wide.statusCode).toBe(422);
    expect(wide.json()).toMatchObject({ title: 'Plan too large', field: 'recipients' });
    expect(wide.json().detail).toContain('9,000 deliveries');
    expect(wide.json().detail).toContain('POST /broadcasts');

    const perRecipient = 11;
    const fits = Math.floor(MAX_PLANNED_DELIVERIES / perRecipient);
    const deep = await notify({ channels: ['push'], recipients: recipients(fits + 1), escalation: tenSteps });
    expect(deep.statusCode).toBe(422);
    expect(deep.json().detail).toContain(`Send to at most ${fits} recipients`);
  });

  it('refuses a plan too large for even one recipient, naming the escalation, and a policy likewise', async () => {
    const huge = {
      steps: Array.from({ length: 10 }, () => ({ after: '1m', channels: ['sms', 'voice', 'push', 'email'] })),
      repeat: 10,
      ack_timeout: '30m',
    };
    const res = await notify({ channels: ['push'], recipients: recipients(1), escalation: huge });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ title: 'Plan too large', field: 'escalation' });
    expect(res.json().detail).toContain('ack_timeout may re-open the escalation 10 times');

    const policy = await herald.api.inject({
      method: 'PUT',
      url: '/escalation-policies/pager',
      headers: tenant.auth,
      payload: huge,
    });
    expect(policy.statusCode).toBe(422);
    expect(policy.json()).toMatchObject({ title: 'Plan too large', field: 'steps' });
  });

  it("sends the largest plan it accepts, every delivery once, each run of its history well inside Temporal's limits", async () => {
    const fits = Math.floor(MAX_PLANNED_DELIVERIES / 11);
    const res = await notify({ channels: ['push'], recipients: recipients(fits), escalation: tenSteps });
    expect(res.statusCode).toBe(202);
    const id = res.json().notification_id;
    const status = await eventually(
      () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json()),
      (s) => s.status === 'delivered',
      150_000,
    );
    expect(status.deliveries).toHaveLength(fits * 11);
    expect(status.deliveries.every((d: { status: string }) => d.status === 'delivered')).toBe(true);

    const handle = herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id));
    await handle.result();
    // From the last run back to the first, each naming the run it continued.
    let runId: string | undefined = (await handle.describe()).runId;
    let runs = 0;
    let largestPayload = 0;
    while (runId) {
      const history: temporal.api.history.v1.IHistory = await herald.temporal.workflow
        .getHandle(handle.workflowId, runId)
        .fetchHistory();
      const events = history.events!;
      runs++;
      expect(events.length).toBeLessThan(HISTORY_WARNING_EVENTS);
      for (const e of events)
        largestPayload = Math.max(largestPayload, temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
      runId = events[0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId || undefined;
    }
    expect(runs).toBeGreaterThanOrEqual(1);
    // Temporal refuses a payload of 2 MB; the largest event, carried state included, stays under half.
    expect(largestPayload).toBeLessThan(1024 * 1024);
  }, 240_000);
});
