import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { notificationWorkflowId } from '../workflows/definitions';
import { percentile } from './stats';

/** One latency probe: an email notification, when its request went out and when the provider had it. */
export interface Probe {
  notificationId: string;
  /** Wall-clock times (ms), comparable with the server's event times on the same machine. */
  sentAt: number;
  receivedAt: number;
}

const { EventType } = temporal.api.enums.v1;

export const PHASES = [
  'accepted → workflow started',
  '→ send scheduled',
  '→ send started',
  '→ at the provider',
] as const;

/**
 * Where a probe's time went, from its workflow history: until the workflow started (accept and the
 * dispatcher), until its first task scheduled the send (a workflow task), until a channel worker took
 * the send (the activity's queue), until the provider had the message (the send itself).
 * p50 and p99 of each phase over the probes, in ms.
 */
export async function phasesOf(client: Client, tenantId: string, probes: Probe[]) {
  const durations: number[][] = PHASES.map(() => []);
  for (const probe of probes) {
    const history = await client.workflow
      .getHandle(notificationWorkflowId(tenantId, probe.notificationId))
      .fetchHistory();
    const at = (type: temporal.api.enums.v1.EventType) => {
      const event = history.events?.find((e) => e.eventType === type);
      return event ? tsToMs(event.eventTime) : NaN;
    };
    const marks = [
      probe.sentAt,
      at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
      at(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      at(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED),
      probe.receivedAt,
    ];
    PHASES.forEach((_, i) => durations[i]!.push(marks[i + 1]! - marks[i]!));
  }
  return PHASES.map((phase, i) => ({ phase, p50: percentile(durations[i]!, 50), p99: percentile(durations[i]!, 99) }));
}
