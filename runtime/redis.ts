import { Redis } from 'ioredis';

/**
 * A Redis client for shared rate-limit counts. Commands fail at once while Redis is away instead of
 * queueing, so the limiter falls back to counting in this process rather than holding requests up.
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => {});
  return redis;
}
