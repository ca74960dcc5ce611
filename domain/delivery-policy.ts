import type { RetryPolicy } from '@temporalio/common';
import type { Channel } from './channels';
import type { Priority } from './notification';

/** Retry a failed send after 1 s, 2 s, 4 s, 8 s and 16 s, then give up: six tries in all. */
export const DELIVERY_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '16s',
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
