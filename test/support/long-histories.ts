import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { NotificationRequest, NotificationSnapshot } from '../../domain/notification';
import { MAX_REOPENS } from '../../domain/plan-size';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { acknowledgeSignal, receiptSignal, statusQuery } from '../../workflows/definitions';
import { registerSearchAttributes } from '../../worker/search-attributes';

/** The dev server suggests continuing as new past this many events (Temporal's default is 4,096). */
export const SUGGEST_AFTER_EVENTS = 60;

/** A dev server of its own that suggests continue-as-new early, so short tests grow long histories. */
export async function startEarlyContinuingServer(): Promise<TestWorkflowEnvironment> {
  const path = ensureTemporalBinary('cli');
  if (!path) throw new Error('No Temporal CLI: run npm run temporal:install');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path },
      ip: '127.0.0.1',
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AFTER_EVENTS}`],
    },
  });
  await registerSearchAttributes(env.nativeConnection, 'default');
  return env;
}

/** Until the status query (which follows the latest run) says so. */
export async function untilStatus(handle: WorkflowHandle, done: (s: NotificationSnapshot) => boolean) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const s = await handle.query(statusQuery);
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`status never matched: ${JSON.stringify(s).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends what `lengthen` sends until the workflow has carried on as a new run. */
async function lengthenUntilContinued(handle: WorkflowHandleWithFirstExecutionRunId, lengthen: () => Promise<void>) {
  while ((await handle.describe()).runId === handle.firstExecutionRunId) await lengthen();
}

/** Every run of the workflow, first to last, each with its history. */
export async function everyRun(
  client: TestWorkflowEnvironment['client'],
  handle: WorkflowHandleWithFirstExecutionRunId,
): Promise<temporal.api.history.v1.IHistory[]> {
  const found: temporal.api.history.v1.IHistory[] = [];
  let runId: string | undefined = handle.firstExecutionRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    found.push(history);
    runId = history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return found;
}

const receipt = (handle: WorkflowHandle, d: { providerMessageId?: string }, status: 'sent' | 'delivered' | 'opened') =>
  handle.signal(receiptSignal, { providerMessageId: d.providerMessageId!, status });

/**
 * Twelve emails await their receipts: half are confirmed, repeats of what is known lengthen the history until
 * the run carries on, then the confirmed ones are opened and the last receipts end the notification.
 */
export const receiptsAcrossRuns = {
  request: (): Partial<NotificationRequest> => ({
    channels: ['email'],
    recipients: Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, email: `r${i}@example.com` })),
    receiptWindowMs: 600_000,
  }),
  async drive(handle: WorkflowHandleWithFirstExecutionRunId) {
    const sent = await untilStatus(handle, (s) => s.deliveries.every((d) => d.status === 'sent'));
    const [early, late] = [sent.deliveries.slice(0, 6), sent.deliveries.slice(6)];
    for (const d of early) await receipt(handle, d, 'delivered');
    await lengthenUntilContinued(handle, async () => {
      for (const d of late) await receipt(handle, d, 'sent');
    });
    for (const d of early) await receipt(handle, d, 'opened');
    // The notification waits for receipts while a delivery is only sent: the last of these ends it.
    for (const d of late) await receipt(handle, d, 'delivered');
  },
};

/** The gap between the steps of the escalation below: long enough for its first run to carry on in it. */
export const ESCALATION_STEP_MS = 6000;

/**
 * Three on-call people, escalated by SMS, voice and email: while the SMS step waits, repeats of receipts
 * already applied lengthen the history until the run carries on; the voice call is acknowledged.
 */
export const escalationAcrossRuns = {
  request: (): Partial<NotificationRequest> => {
    const step = (channel: 'sms' | 'voice' | 'email') => ({
      afterMs: ESCALATION_STEP_MS,
      channels: [channel],
      unless: 'acknowledged' as const,
    });
    return {
      channels: ['push'],
      recipients: ['ada', 'grace', 'linus'].map((id) => ({
        id,
        pushTokens: [`device-${id}`],
        phone: '+14155550100',
        email: `${id}@example.com`,
      })),
      escalation: { steps: [step('sms'), step('voice'), step('email')], repeat: 0 },
    };
  },
  async drive(handle: WorkflowHandleWithFirstExecutionRunId) {
    const delivered = await untilStatus(handle, (s) => s.deliveries.every((d) => d.status === 'delivered'));
    await lengthenUntilContinued(handle, async () => {
      for (const d of delivered.deliveries) await receipt(handle, d, 'delivered');
    });
    await untilStatus(handle, (s) => s.deliveries.filter((d) => d.channel === 'voice').length === 3);
    await handle.signal(acknowledgeSignal, { by: 'ada', at: new Date().toISOString(), via: 'api' });
  },
};

/** One on-call person acknowledges every opening as soon as its push went out; nobody resolves. */
export const reopenedUntilTheLimit = {
  request: (): Partial<NotificationRequest> => ({
    channels: ['push'],
    recipients: [{ id: 'oncall', pushTokens: ['device-oncall'], phone: '+14155550100' }],
    escalation: {
      steps: [{ afterMs: 60_000, channels: ['sms'], unless: 'acknowledged' }],
      repeat: 0,
      ackTimeoutMs: 1000,
    },
  }),
  /** Acknowledges opening `opening` (0: the first) once its push went out. */
  async acknowledgeOpening(handle: WorkflowHandle, opening: number) {
    await untilStatus(
      handle,
      (s) => s.deliveries.filter((d) => d.channel === 'push' && d.status === 'delivered').length === opening + 1,
    );
    await handle.signal(acknowledgeSignal, { by: `shift-${opening}`, at: new Date().toISOString(), via: 'api' });
  },
  async drive(handle: WorkflowHandle) {
    for (let opening = 0; opening <= MAX_REOPENS; opening++) await this.acknowledgeOpening(handle, opening);
  },
};
