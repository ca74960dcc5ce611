import type { RetryPolicy } from '@temporalio/common';
import type { Channel } from './channels';

/** Retry a failed send after 1 s, 2 s, 4 s, 8 s and 16 s, then give up: six tries in all. */
export const DELIVERY_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '16s',
  maximumAttempts: 6,
};

/** Failure types that no retry can heal (bad address, rejected by the provider for good). */
export const PERMANENT_FAILURE = 'PermanentDeliveryFailure';
export const TRANSIENT_FAILURE = 'TransientDeliveryFailure';

/** Each channel's sends run on their own task queue so a slow provider cannot starve the others. */
export function channelTaskQueue(baseQueue: string, channel: Channel): string {
  return `${baseQueue}.${channel}`;
}

export const PRIORITY_KEYS = { high: 1, normal: 3, low: 5 } as const;
