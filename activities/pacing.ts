import pLimit from 'p-limit';
import { RateLimiter } from 'limiter';
import type { Channel } from '../domain/channels';

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
 * One gate per channel with a limit on sends in flight, shared by every activity of this worker that
 * sends on it: a batch or a broadcast chunk holds one activity slot but makes many sends.
 */
export type SendGates = Partial<Record<Channel, pLimit.Limit>>;

export function channelSendGates(limits: Partial<Record<Channel, number>> = {}): SendGates {
  return Object.fromEntries(Object.entries(limits).map(([channel, inFlight]) => [channel, pLimit(inFlight)]));
}

export function gated<T>(gate: pLimit.Limit | undefined, send: () => Promise<T>): Promise<T> {
  return gate ? gate(send) : send();
}
