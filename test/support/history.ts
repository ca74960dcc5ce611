import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The workflow's records of itself in its history: `recordNotification` run as a regular or a local activity. */
export function recordsIn(events: HistoryEvent[]): HistoryEvent[] {
  return events.filter(
    (e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordNotification' ||
      localActivityType(e) === 'recordNotification',
  );
}

function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString()) as { activity_type?: string }).activity_type : undefined;
}
