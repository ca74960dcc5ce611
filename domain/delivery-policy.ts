import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import type { Channel } from './channels';
import type { Priority } from './notification';

const FIRST_RETRY_MS = 1000;
const BACKOFF = 2;
const LONGEST_RETRY_MS = 16_000;

/** Retry a failed send after 1 s, 2 s, 4 s, 8 s and 16 s, then give up: six tries in all. */
export const DELIVERY_RETRY: RetryPolicy = {
  initialInterval: FIRST_RETRY_MS,
  backoffCoefficient: BACKOFF,
  maximumInterval: LONGEST_RETRY_MS,
  maximumAttempts: 6,
};

/**
 * With another provider to fall back on, a transient failure moves on after this many tries of one
 * provider (the first try and the retries after 1 s and 2 s); the last provider gets all six.
 */
export const FAILOVER_AFTER_ATTEMPTS = 3;

/** A provider's `Retry-After` is honoured up to this long; a longer wait fails over instead, if it can. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Failure types that no retry can heal (bad address, rejected by the provider for good). */
export const PERMANENT_FAILURE = 'PermanentDeliveryFailure';
export const TRANSIENT_FAILURE = 'TransientDeliveryFailure';
/** This provider is done with the delivery; the workflow hands it to the next one. */
export const FAILOVER = 'ProviderFailover';

/** Each channel's sends run on their own task queue so a slow provider cannot starve the others. */
export function channelTaskQueue(baseQueue: string, channel: Channel): string {
  return `${baseQueue}.${channel}`;
}

export const PRIORITY_KEYS = { high: 1, normal: 3, low: 5 } as const;

/**
 * High priority runs on task queues of its own (`<queue>-high`, `<queue>-high.<channel>`) with workers
 * of their own, so its tasks never wait in line behind a backlog, whether or not the server orders
 * a queue by priority key. Normal and low share the main queues and are ordered by their keys.
 */
export function laneTaskQueue(baseQueue: string, priority: Priority): string {
  return priority === 'high' ? `${baseQueue}-high` : baseQueue;
}

/** Every lane's workflow queue: a worker polls them all. */
export function laneTaskQueues(baseQueue: string): string[] {
  return [baseQueue, laneTaskQueue(baseQueue, 'high')];
}

/** The wait before try `attempt + 1` of a send, on DELIVERY_RETRY's schedule, for sends retried by a workflow. */
export function retryDelayMs(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * BACKOFF ** (attempt - 1), LONGEST_RETRY_MS);
}

/**
 * Options of an activity that makes many sends (a batch, a broadcast chunk). Each send has its own
 * timeout, so many slow ones may take long; a dead worker is found by heartbeat. Each send gives up on
 * its own after DELIVERY_RETRY's tries; the activity itself retries on that schedule without end,
 * skipping what its record shows sent, so nothing accepted is dropped while the database is away.
 */
export const MANY_SENDS: Pick<ActivityOptions, 'startToCloseTimeout' | 'heartbeatTimeout' | 'retry'> = {
  startToCloseTimeout: '1h',
  heartbeatTimeout: '1m',
  retry: { ...DELIVERY_RETRY, maximumAttempts: Number.POSITIVE_INFINITY },
};

/** Bookkeeping activities (records, preference reads): quick, and tried again until the database answers. */
export const BOOKKEEPING: Pick<ActivityOptions, 'startToCloseTimeout' | 'retry'> = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
};

/** Sends of one channel a workflow hands to one activity at most; more go to several. */
export const SEND_BATCH_MAX = 100;

/** Sends one activity has in flight at once when it sends many. */
export const SENDS_IN_FLIGHT = 16;
