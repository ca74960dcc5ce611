import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/herald';
import { PATCHES } from '../../workflows/definitions';
import * as workflows from '../../workflows';

const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

interface HistoryJson {
  events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads: { data: string }[] }> } }[];
}

/** The patch ids a history's workflow took, from its `patched()` markers. */
function patchesIn(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as HistoryJson;
  return history.events.flatMap((e) =>
    (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
      (p) => (JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as { id: string }).id,
    ),
  );
}

const versionOf = (file: string) => Number(/^v(\d+)-/.exec(file)![1]);
/** The last history version recorded by release 0.1.0's workflow code (tag v0.1.0). */
const LAST_OF_RELEASE_0_1 = 15;

/** Histories of versions before `first` never took the patch; every one of `first` did, and there are at least `min`. */
function expectPatchFrom(patchId: string, first: number, min = 1) {
  const took = (file: string) => patchesIn(file).includes(patchId);
  expect(files.filter((f) => versionOf(f) < first).some(took)).toBe(false);
  const from = files.filter((f) => versionOf(f) === first);
  expect(from.length).toBeGreaterThanOrEqual(min);
  expect(from.every(took)).toBe(true);
}

describe("replaying committed workflow histories against today's workflow code", () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  // An upgrade resumes what the previous release started: each workflow type has histories its code recorded.
  it('holds, for every workflow type, histories recorded by the code of release 0.1.0 or earlier', () => {
    const typeOf = (file: string) =>
      (
        JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
          events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[];
        }
      ).events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name;
    const recorded = new Set(files.filter((f) => versionOf(f) <= LAST_OF_RELEASE_0_1).map(typeOf));
    expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
  });

  it('holds histories from before and after provider failover, so both code paths replay', () => {
    const marked = (file: string) => patchesIn(file).includes(PATCHES.providerFailover);
    expect(files.filter((f) => f.startsWith('v1-')).some(marked)).toBe(false);
    expect(files.filter((f) => f.startsWith('v2-')).every(marked)).toBe(true);
  });

  it('holds histories from before and after preferences read at accept', () => {
    expectPatchFrom(PATCHES.plansAtAccept, 4, 3);
  });

  it('holds histories from before and after orchestration, with a recorded scenario for each step kind', () => {
    const planned = (file: string) => patchesIn(file).includes(PATCHES.orchestration);
    expect(files.filter((f) => /^v[12]-/.test(f)).some(planned)).toBe(false);
    const v3 = files.filter((f) => /^v[34]-/.test(f));
    expect(v3.every(planned)).toBe(true);
    for (const scenario of ['fallback', 'escalation-acknowledged', 'quiet-hours', 'cancelled', 'operator-retry'])
      expect(v3.some((f) => f.includes(scenario))).toBe(true);
  });

  it('holds histories from before and after the API recorded notifications at accept', () => {
    expectPatchFrom(PATCHES.recordedAtAccept, 6);
  });

  it('holds histories from before and after the record became a local activity', () => {
    expectPatchFrom(PATCHES.localRecord, 8, 3);
  });

  it('holds histories of the current notification type, which has no patch markers', () => {
    const typeOf = (file: string) =>
      JSON.parse(readFileSync(path.join(dir, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes
        .workflowType.name;
    const v9 = files.filter((f) => f.startsWith('v9-'));
    expect(v9.length).toBeGreaterThanOrEqual(4);
    for (const file of v9) {
      expect(typeOf(file)).toBe('notification');
      expect(patchesIn(file)).toEqual([]);
    }
    expect(files.filter((f) => /^v[1-8]-/.test(f) && !f.includes('broadcast')).map(typeOf)).not.toContain(
      'notification',
    );
  });

  it('holds histories from before and after several recipients shared a batch, the later with a marker of its own', () => {
    expectPatchFrom(PATCHES.batchedSends, 10);
    const v10 = files.filter((f) => versionOf(f) === 10);
    const history = JSON.parse(readFileSync(path.join(dir, v10[0]!), 'utf8'));
    const activities = history.events
      .map(
        (e: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
          e.activityTaskScheduledEventAttributes?.activityType.name,
      )
      .filter(Boolean);
    expect(activities).toEqual(['deliverBatch', 'deliverBatch']);
  });

  it('holds histories from before and after recipients shared their waits, the later with a marker of its own', () => {
    expectPatchFrom(PATCHES.sharedWaits, 11);
    const v11 = files.filter((f) => versionOf(f) === 11);
    const history = JSON.parse(readFileSync(path.join(dir, v11[0]!), 'utf8'));
    const kinds = history.events.flatMap(
      (e: { eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
        e.eventType === 'EVENT_TYPE_TIMER_STARTED'
          ? ['timer']
          : e.activityTaskScheduledEventAttributes?.activityType.name === 'planRecipients'
            ? ['planRecipients']
            : [],
    );
    // One timer for three recipients' send time, one read for the three, then the quiet hours of one.
    expect(kinds.slice(0, 4)).toEqual(['timer', 'planRecipients', 'timer', 'planRecipients']);
  });

  it('holds a history of a recipient forgotten in the middle of an escalation', () => {
    const forgotten = files.find((f) => f.startsWith('v5-') && f.includes('recipient-forgotten'));
    expect(forgotten).toBeDefined();
    const history = JSON.parse(readFileSync(path.join(dir, forgotten!), 'utf8'));
    const signals = history.events
      .filter((e: { eventType: string }) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED')
      .map(
        (e: { workflowExecutionSignaledEventAttributes: { signalName: string } }) =>
          e.workflowExecutionSignaledEventAttributes.signalName,
      );
    expect(signals).toEqual(['forget-recipient']);
  });

  it("holds a history of a receipt that landed while the outcome's record ran", () => {
    const history = JSON.parse(readFileSync(path.join(dir, 'v12-receipt-while-outcome-recorded.json'), 'utf8'));
    const events = history.events.map(
      (e: { eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
        e.activityTaskScheduledEventAttributes?.activityType.name ?? e.eventType,
    ) as string[];
    const recording = events.indexOf('recordNotification');
    expect(recording).toBeGreaterThan(0);
    const signalled = events.indexOf('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', recording);
    expect(signalled).toBeGreaterThan(recording);
    expect(events.indexOf('EVENT_TYPE_ACTIVITY_TASK_COMPLETED', recording)).toBeGreaterThan(signalled);
  });

  it('holds histories of a broadcast and of a chunk that held recipients through quiet hours', () => {
    const events = (file: string) =>
      (JSON.parse(readFileSync(path.join(dir, file), 'utf8')).events as { eventType: string }[]).map(
        (e) => e.eventType,
      );
    expect(
      events('v7-broadcast.json').filter((t) => t === 'EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED'),
    ).toHaveLength(2);
    expect(events('v7-broadcast-chunk-held.json')).toContain('EVENT_TYPE_TIMER_STARTED');
  });

  it('holds histories of notifications that carried on as new runs, each run but the last ending so', () => {
    const eventTypes = (file: string) =>
      (JSON.parse(readFileSync(path.join(dir, file), 'utf8')).events as { eventType: string }[]).map(
        (e) => e.eventType,
      );
    for (const scenario of ['continued-receipts', 'continued-mid-escalation', 'reopened-until-the-limit']) {
      const runs = files.filter((f) => f.startsWith(`v14-${scenario}-run`)).sort();
      expect(runs.length).toBeGreaterThanOrEqual(2);
      runs.forEach((file, i) =>
        expect(eventTypes(file).at(-1)).toBe(
          i < runs.length - 1
            ? 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW'
            : 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
        ),
      );
    }
  });

  it('holds a history of a templated notification whose fallback renders the version pinned at accept', () => {
    const history = JSON.parse(readFileSync(path.join(dir, 'v15-templated-pinned-across-publish.json'), 'utf8'));
    const results = history.events.flatMap(
      (e: { activityTaskCompletedEventAttributes?: { result?: { payloads: { data: string }[] } } }) =>
        (e.activityTaskCompletedEventAttributes?.result?.payloads ?? []).map((p) =>
          JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')),
        ),
    ) as { provider?: string; details?: { template?: string; version?: number } }[];
    // A second version was live by the time the SMS fallback went: it still rendered the first.
    expect(results.find((r) => r.provider === 'twilio')?.details).toMatchObject({ template: 'receipt', version: 1 });
  });

  it('holds histories of experiments: one decided at its first look, one stopped by its signal', () => {
    const history = (name: string) => JSON.parse(readFileSync(path.join(dir, `v15-${name}.json`), 'utf8'));
    for (const [name, state] of [
      ['experiment-decided', 'winner'],
      ['experiment-stopped', 'no_winner'],
    ] as const) {
      const events = history(name).events as {
        eventType: string;
        workflowExecutionStartedEventAttributes?: { workflowType: { name: string } };
        workflowExecutionCompletedEventAttributes?: { result: { payloads: { data: string }[] } };
      }[];
      expect(events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name).toBe('experimentWorkflow');
      const result = events.at(-1)!.workflowExecutionCompletedEventAttributes!.result.payloads[0]!.data;
      expect(JSON.parse(Buffer.from(result, 'base64').toString('utf8'))).toBe(state);
    }
    expect(history('experiment-decided').events.map((e: { eventType: string }) => e.eventType)).toContain(
      'EVENT_TYPE_TIMER_STARTED',
    );
  });

  // Workers bundle the workflows with the span-making interceptors or with trace propagation alone.
  it.each(files.flatMap((file) => [true, false].map((workflowSpans) => [file, workflowSpans] as const)))(
    '%s replays without a determinism error (workflow spans: %s)',
    async (file, workflowSpans) => {
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      // Tracing spans leave workflows through a sink; replay only needs it to exist.
      const sinks = { exporter: { export: { fn: () => undefined } } };
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle({ workflowSpans }), sinks }, history, file);
    },
  );
});
