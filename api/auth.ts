import type { FastifyRequest } from 'fastify';
import { Problem } from './problems';
import type { TenantDirectory } from './tenants';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
  }
}

const unauthorized = (detail: string) => new Problem(401, 'Unauthorized', detail, 'authorization');

/** A preHandler that turns `Authorization: Bearer <key>` into the caller's tenant, or answers 401. */
export function bearerAuth(directory: TenantDirectory, options: { allowQueryKey?: boolean } = {}) {
  return async function authenticate(request: FastifyRequest) {
    const header = request.headers.authorization;
    let key: string | undefined;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw unauthorized('The Authorization header must be "Bearer <api key>"');
      key = match[1];
    } else if (options.allowQueryKey) {
      key = (request.query as { api_key?: string }).api_key;
    }
    if (!key) throw unauthorized('An API key is required: send "Authorization: Bearer <api key>"');
    const tenantId = await directory.tenantForKey(key);
    if (!tenantId) throw unauthorized('The API key is not valid');
    request.tenantId = tenantId;
    request.log = request.log.child({ tenant: tenantId });
  };
}
