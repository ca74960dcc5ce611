import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { Problem } from './problems';
import type { Caller } from './tenants';

/** Limits for tenants that have none of their own; a daily quota of 0 means none. */
export interface LimitDefaults {
  ratePerSecond: number;
  burst: number;
  dailyQuota: number;
}

/** One check's outcome, as the RateLimit headers tell it. */
export interface Allowance {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
  policy: string;
}

const DAY_MS = 86_400_000;

/**
 * Per-tenant request rate and daily notification quota, counted by rate-limiter-flexible: in this
 * process, or in Redis when one is given, so every API instance draws on the same allowance. The
 * request limiter is the library's bursty limiter: `rate` requests each second, plus a reserve of
 * `burst` requests that refills every burst/rate seconds. If Redis stops answering, each instance
 * counts on its own until it is back.
 */
export class TenantLimits {
  private readonly requestLimiters = new Map<string, BurstyRateLimiter>();
  private readonly quotaLimiters = new Map<number, RateLimiterAbstract>();

  constructor(
    private readonly defaults: LimitDefaults,
    private readonly redis?: Redis,
  ) {}

  /** Takes one request from the caller's rate: its tenant's, or its own at the tenant's rate (a browser's token). */
  async takeRequest(caller: Caller): Promise<Allowance> {
    const rate = caller.limits.ratePerSecond ?? this.defaults.ratePerSecond;
    const burst = caller.limits.burst ?? this.defaults.burst;
    const limiter = this.requestLimiter(rate, burst);
    const policy = `${rate};w=1;burst=${burst}`;
    const { allowed, res } = await take(limiter, caller.rateKey ?? caller.tenantId);
    return { allowed, limit: rate, remaining: res.remainingPoints, resetMs: res.msBeforeNext, policy };
  }

  /**
   * Takes notifications (one, or a broadcast's recipients) from the tenant's quota for today (UTC);
   * unlimited without a quota. A refusal takes nothing.
   */
  async takeNotifications(caller: Caller, count = 1, now = Date.now()): Promise<Allowance | undefined> {
    const quota = this.quotaOf(caller);
    if (!quota) return undefined;
    const limiter = this.quotaLimiter(quota);
    const key = dayKey(caller.tenantId, now);
    const { allowed, res } = await take(limiter, key, count);
    if (!allowed) await limiter.reward(key, count);
    const remaining = allowed ? res.remainingPoints : Math.max(0, quota - (res.consumedPoints - count));
    const resetMs = DAY_MS - (now % DAY_MS);
    return { allowed, limit: quota, remaining, resetMs, policy: `${quota};w=86400` };
  }

  /** Gives back what was taken for a request that, in the end, accepted nothing. */
  async giveBackNotifications(caller: Caller, count = 1, now = Date.now()): Promise<void> {
    const quota = this.quotaOf(caller);
    if (quota) await this.quotaLimiter(quota).reward(dayKey(caller.tenantId, now), count);
  }

  /** The tenant's daily quota, or the default; 0 means none. */
  private quotaOf(caller: Caller): number {
    return caller.limits.dailyQuota ?? this.defaults.dailyQuota;
  }

  private requestLimiter(rate: number, burst: number): BurstyRateLimiter {
    const id = `${rate}/${burst}`;
    let limiter = this.requestLimiters.get(id);
    if (!limiter) {
      limiter = new BurstyRateLimiter(
        this.counter(rate, 1, `rate:${id}`),
        this.counter(burst, Math.max(1, Math.ceil(burst / rate)), `burst:${id}`),
      );
      this.requestLimiters.set(id, limiter);
    }
    return limiter;
  }

  private quotaLimiter(quota: number): RateLimiterAbstract {
    let limiter = this.quotaLimiters.get(quota);
    if (!limiter) {
      // A key per day: it outlives its day by an hour at most, so no day's count runs into the next.
      limiter = this.counter(quota, (DAY_MS + 3_600_000) / 1000, `day:${quota}`);
      this.quotaLimiters.set(quota, limiter);
    }
    return limiter;
  }

  private counter(points: number, duration: number, keyPrefix: string): RateLimiterAbstract {
    return sharedCounter({ points, duration, keyPrefix }, this.redis);
  }
}

/**
 * `points` per `duration` seconds for each key, counted in this process, or in Redis when given so
 * every API instance counts together; this process counts alone while Redis is away. With
 * `blockDuration`, a key over its points is refused that long, and an instance remembers the block
 * itself instead of asking Redis again for each refusal.
 */
export function sharedCounter(
  options: { points: number; duration: number; keyPrefix: string; blockDuration?: number },
  redis?: Redis,
): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  if (!redis) return memory;
  return new RateLimiterRedis({
    ...options,
    storeClient: redis,
    keyPrefix: `herald:${options.keyPrefix}`,
    insuranceLimiter: memory,
    ...(options.blockDuration
      ? { inMemoryBlockOnConsumed: options.points + 1, inMemoryBlockDuration: options.blockDuration }
      : {}),
  });
}

function dayKey(tenantId: string, now: number): string {
  return `${tenantId}:${new Date(now).toISOString().slice(0, 10)}`;
}

/** Consumes points: allowed, or refused with the limiter's answer (when to come back). */
export async function take(limiter: Pick<RateLimiterAbstract, 'consume'>, key: string, points = 1) {
  try {
    return { allowed: true, res: await limiter.consume(key, points) };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { allowed: false, res: rejection };
    throw rejection;
  }
}

/** RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), and Retry-After when refused. */
export function setRateLimitHeaders(reply: FastifyReply, allowance: Allowance): void {
  const resetSeconds = Math.max(1, Math.ceil(allowance.resetMs / 1000));
  reply.header('ratelimit-policy', allowance.policy);
  reply.header('ratelimit-limit', allowance.limit);
  reply.header('ratelimit-remaining', Math.max(0, allowance.remaining));
  reply.header('ratelimit-reset', resetSeconds);
  if (!allowance.allowed) reply.header('retry-after', resetSeconds);
}

/** An onRequest hook, after authentication: one request from the caller's tenant rate, or 429. */
export function limitRequests(limits: TenantLimits) {
  return async function rateLimit(request: FastifyRequest, reply: FastifyReply) {
    const allowance = await limits.takeRequest(request.caller);
    setRateLimitHeaders(reply, allowance);
    if (!allowance.allowed)
      throw new Problem(
        429,
        'Too many requests',
        `This tenant may make ${allowance.limit} requests per second (and a burst above that); retry after ${reply.getHeader('retry-after')} s`,
      );
  };
}

/** Notifications from the caller's daily quota, or 429; the caller gives them back if nothing is accepted. */
export async function takeDailyQuota(limits: TenantLimits, request: FastifyRequest, reply: FastifyReply, count = 1) {
  const allowance = await limits.takeNotifications(request.caller, count);
  if (!allowance) return;
  setRateLimitHeaders(reply, allowance);
  if (!allowance.allowed)
    throw new Problem(
      429,
      'Daily quota exceeded',
      `This tenant may send ${allowance.limit} notifications a day (UTC)${count > 1 ? `; this request needs ${count}, ${allowance.remaining} remain` : ''}; retry after ${reply.getHeader('retry-after')} s`,
    );
}
