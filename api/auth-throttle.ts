import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { Problem } from './problems';
import { sharedCounter, take } from './tenant-limits';

/**
 * Failed authentications an address may make in a window before it is refused, unless the API is
 * told otherwise. A person who mistypes a key, or a client still sending a revoked one, has its 401
 * long before 20; a script guessing keys or tokens gets 20 answers, then none for five minutes.
 */
export const FAILURES_ALLOWED = 20;
const WINDOW_SECONDS = 60;
const REFUSED_FOR_SECONDS = 300;

/**
 * The address a client is counted by: an IPv6 client commonly holds a whole /64, so its /64 counts as
 * one address; an IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function countedAddress(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}

/**
 * Throttles failed authentication per client address, before anything is looked up: an attempt with
 * a credential not known to be good takes a point from its address and a success gives it back, so
 * only failures stay counted. An address's attempts run one at a time, so a burst of them finds the
 * count exact (no more than the allowed failures get through) and a burst of good ones never fills
 * it. Counted in Redis when given (shared by every API instance), else in this process.
 *
 * Counted per address only, not per key id: ids are public (listings, the audit log), so a count per
 * id would let anyone lock a tenant's key out, and a key's 192-bit secret cannot be guessed anyway.
 */
export class FailedAuthThrottle {
  private readonly failures;
  private readonly allowed: number;
  /** Each address's last attempt in flight: the next one waits for it. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /** `what` names the credential in the answer and keeps each kind's count apart. */
  constructor(
    private readonly what: 'API key' | 'admin token',
    options: { redis?: Redis; failuresAllowed?: number } = {},
  ) {
    this.allowed = options.failuresAllowed ?? FAILURES_ALLOWED;
    this.failures = sharedCounter(
      {
        points: this.allowed,
        duration: WINDOW_SECONDS,
        blockDuration: REFUSED_FOR_SECONDS,
        keyPrefix: `auth-failures:${what === 'API key' ? 'key' : 'admin'}`,
      },
      options.redis,
    );
  }

  /**
   * Runs `authenticate` as one attempt from the request's address: its answer, or null when it
   * failed; 429 with Retry-After when the address failed too often. `trusted` says, once the
   * address's earlier attempts are done, that the credential is known good after all: no point taken.
   */
  attempt<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    authenticate: () => Promise<T | null> | T | null,
    trusted: () => boolean = () => false,
  ): Promise<T | null> {
    const address = countedAddress(request.ip);
    const previous = this.inFlight.get(address) ?? Promise.resolve();
    const attempt = previous.then(async () => {
      if (trusted()) return authenticate();
      await this.take(address, reply);
      let answer: T | null;
      try {
        answer = await authenticate();
      } catch (error) {
        // Not a failed authentication: the database did not answer.
        await this.failures.reward(address);
        throw error;
      }
      if (answer !== null) await this.failures.reward(address);
      return answer;
    });
    const settled = attempt.catch(() => undefined);
    this.inFlight.set(address, settled);
    void settled.then(() => {
      if (this.inFlight.get(address) === settled) this.inFlight.delete(address);
    });
    return attempt;
  }

  private async take(address: string, reply: FastifyReply): Promise<void> {
    const { allowed, res } = await take(this.failures, address);
    if (allowed) return;
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    reply.header('retry-after', seconds);
    throw new Problem(
      429,
      'Too many failed authentications',
      `This address sent a wrong ${this.what} more than ${this.allowed} times within ${WINDOW_SECONDS} s: retry after ${seconds} s (the Retry-After header), with a valid ${this.what}`,
      'authorization',
    );
  }
}
