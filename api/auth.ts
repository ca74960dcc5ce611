import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../domain/sha256';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FailedAuthThrottle } from './auth-throttle';
import { Problem } from './problems';
import { RECIPIENT_TOKEN_PREFIX, type RecipientCaller } from './recipient-tokens';
import type { Caller, Scope, TenantDirectory } from './tenants';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this route; reads need `read` and writes `send` unless a route says otherwise. */
    scope?: Scope;
    /**
     * A recipient token opens this route for its own recipient (the route's `:id`) as well as a key does;
     * a route with no `:id` (the tenant's inbox feeds) is open to every recipient's token.
     */
    recipientToken?: boolean;
    /** The recipient token may come as `?token=` (for EventSource, which sends no headers). */
    tokenInQuery?: boolean;
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
  const query = request.query as { api_key?: string; token?: string };
  // A browser's EventSource cannot set a header: the live inbox takes its recipient token in the query.
  if (request.routeOptions.config?.tokenInQuery && query.token?.startsWith(RECIPIENT_TOKEN_PREFIX)) return query.token;
  return allowQueryKey ? query.api_key : undefined;
}

export function requiredScope(request: FastifyRequest): Scope {
  return request.routeOptions.config?.scope ?? (['GET', 'HEAD'].includes(request.method) ? 'read' : 'send');
}

/**
 * An onRequest hook that turns `Authorization: Bearer <key>` into the caller, or answers 401; a key
 * without the route's scope gets 403. A key this instance has not seen live counts as an attempt
 * against the caller's address: too many wrong ones and it answers 429 before looking anything up.
 */
export function bearerAuth(
  directory: TenantDirectory,
  throttle: FailedAuthThrottle,
  options: {
    allowQueryKey?: boolean;
    /** The caller a recipient token stands for, when it is good. */
    recipientCaller?: (token: string) => Promise<RecipientCaller | undefined>;
  } = {},
) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const key = bearerToken(request, options.allowQueryKey);
    if (!key) throw unauthorized('An API key is required: send "Authorization: Bearer <api key>"');
    if (key.startsWith(RECIPIENT_TOKEN_PREFIX)) return authenticateRecipient(request, key);
    const known = () => directory.wasLive(key);
    const caller = known()
      ? await directory.callerForKey(key)
      : await throttle.attempt(request, reply, () => directory.callerForKey(key), known);
    if (!caller) throw unauthorized('The API key is not valid, or has been revoked');
    request.caller = caller;
    request.tenantId = caller.tenantId;
    request.log = request.log.child({ tenant: caller.tenantId, key: caller.keyId });
    const scope = requiredScope(request);
    if (!caller.scopes.includes(scope))
      throw new Problem(403, 'Forbidden', `This API key lacks the "${scope}" scope`, 'authorization');
  };

  /** A browser's token: its own recipient's inbox routes, nothing else. A forged one costs no query. */
  async function authenticateRecipient(request: FastifyRequest, token: string) {
    if (!request.routeOptions.config?.recipientToken || !options.recipientCaller)
      throw unauthorized("A recipient token opens only its recipient's inbox: this route takes an API key");
    const caller = await options.recipientCaller(token);
    if (!caller)
      throw unauthorized(
        'The recipient token is not valid, has expired, or its recipient was deleted: get a new one from POST /recipients/:id/tokens',
      );
    // A route about a recipient (`:id`) is open for the token's own; one without (the tenant's feeds) to any.
    const { id } = request.params as { id?: string };
    if (id !== undefined && id !== caller.recipientId)
      throw new Problem(403, 'Forbidden', "This recipient token opens another recipient's inbox", 'authorization');
    request.caller = caller;
    request.tenantId = caller.tenantId;
    request.log = request.log.child({ tenant: caller.tenantId, key: caller.keyId });
  }
}

/**
 * An onRequest hook for the admin API: the token from the environment, compared in constant time.
 * Wrong tokens count against the caller's address: too many and it answers 429 without comparing.
 */
export function adminAuth(adminToken: string | undefined, throttle: FailedAuthThrottle) {
  // Hashes first: equal lengths whatever the token's, so the comparison itself says nothing.
  const digest = (text: string) => Buffer.from(sha256(text));
  const expected = adminToken ? digest(adminToken) : undefined;
  return async function authenticateAdmin(request: FastifyRequest, reply: FastifyReply) {
    if (!expected) throw unauthorized('The admin API is off: set HERALD_ADMIN_TOKEN to turn it on');
    const token = bearerToken(request);
    if (!token) throw unauthorized('The admin token is required: send "Authorization: Bearer <admin token>"');
    const valid = await throttle.attempt(request, reply, () => timingSafeEqual(digest(token), expected) || null);
    if (!valid) throw unauthorized('The admin token is not valid');
  };
}
