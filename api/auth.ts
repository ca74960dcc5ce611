import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../domain/sha256';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problems';
import type { Caller, Scope, TenantDirectory } from './tenants';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route; reads need `read` and writes `send` unless a route says otherwise. */
    scope?: Scope;
  }
}

const unauthorized = (detail: string) => new Problem(401, 'Unauthorized', detail, 'authorization');

function bearerToken(request: FastifyRequest, allowQueryKey = false): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <api key>"');
    return match[1];
  }
  return allowQueryKey ? (request.query as { api_key?: string }).api_key : undefined;
}

export function requiredScope(request: FastifyRequest): Scope {
  return request.routeOptions.config?.scope ?? (['GET', 'HEAD'].includes(request.method) ? 'read' : 'send');
}

/**
 * An onRequest hook that turns `Authorization: Bearer <key>` into the caller, or answers 401; a key
 * without the route's scope gets 403.
 */
export function bearerAuth(directory: TenantDirectory, options: { allowQueryKey?: boolean } = {}) {
  return async function authenticate(request: FastifyRequest) {
    const key = bearerToken(request, options.allowQueryKey);
    if (!key) throw unauthorized('An API key is required: send "Authorization: Bearer <api key>"');
    const caller = await directory.callerForKey(key);
    if (!caller) throw unauthorized('The API key is not valid, or has been revoked');
    request.caller = caller;
    request.tenantId = caller.tenantId;
    request.log = request.log.child({ tenant: caller.tenantId, key: caller.keyId });
    const scope = requiredScope(request);
    if (!caller.scopes.includes(scope))
      throw new Problem(403, 'Forbidden', `This API key lacks the "${scope}" scope`, 'authorization');
  };
}

/** An onRequest hook for the admin API: the token from the environment, compared in constant time. */
export function adminAuth(adminToken: string | undefined) {
  // Hashes first: equal lengths whatever the token's, so the comparison itself says nothing.
  const digest = (text: string) => Buffer.from(sha256(text));
  const expected = adminToken ? digest(adminToken) : undefined;
  return async function authenticateAdmin(request: FastifyRequest) {
    if (!expected) throw unauthorized('The admin API is off: set HERALD_ADMIN_TOKEN to turn it on');
    const token = bearerToken(request);
    if (!token || !timingSafeEqual(digest(token), expected)) throw unauthorized('The admin token is not valid');
  };
}
