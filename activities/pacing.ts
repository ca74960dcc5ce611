import pLimit from 'p-limit';
import { RateLimiter } from 'limiter';
import type { Channel } from '../domain/channels';
import { channelTaskQueue, laneTaskQueue } from '../domain/delivery-policy';
import type { Priority } from '../domain/notification';

/** One pacer per rate-limited channel, shared by all of its sends in this worker. */
export type Pacers = Partial<Record<Channel, RateLimiter>>;

/**
 * Spaces each channel's sends evenly at its limit. The worker's own limiter keeps the backlog in
 * Temporal but lets the tokens it saved while idle go at once; this holds even that burst to the limit.
 */
export function channelPacers(limits: Partial<Record<Channel, number>> = {}): Pacers {
  return Object.fromEntries(
    Object.entries(limits).map(([channel, perSecond]) => [
      channel,
      new RateLimiter({ tokensPerInterval: 1, interval: 1000 / perSecond }),
    ]),
  );
}

/**
 * A gate per channel and lane with a limit on sends in flight, shared by every activity of this worker
 * that sends on it (a batch or a broadcast chunk holds one activity slot but makes many sends). Each
 * lane has its own, as it has its own slots, so a stuck backlog cannot hold high priority.
 */
export type SendGates = (channel: Channel, priority: Priority) => pLimit.Limit | undefined;

export function channelSendGates(limits: Partial<Record<Channel, number>> = {}): SendGates {
  const gates = new Map<string, pLimit.Limit>();
  return (channel, priority) => {
    const inFlight = limits[channel];
    if (!inFlight) return undefined;
    const key = channelTaskQueue(laneTaskQueue('', priority), channel);
    const gate = gates.get(key) ?? pLimit(inFlight);
    gates.set(key, gate);
    return gate;
  };
}

export function gated<T>(gate: pLimit.Limit | undefined, send: () => Promise<T>): Promise<T> {
  return gate ? gate(send) : send();
}
