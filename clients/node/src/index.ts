import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export type { components, paths } from './schema';

export interface HeraldClientOptions {
  /** Where Herald listens, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** A tenant API key (`hk_…`): every route of its tenant that the key's scopes allow. */
  apiKey?: string;
  /**
   * A recipient token (`hrt_…`, from `POST /recipients/{id}/tokens`): that recipient's inbox routes
   * and nothing else, for code that must not hold the tenant's key.
   */
  token?: string;
  /** Instead of the global fetch: a proxy's, a test's. */
  fetch?: ClientOptions['fetch'];
}

/** Every route of the API, typed from its OpenAPI document: `GET`, `POST`, … with `{ data, error, response }`. */
export type HeraldClient = Client<paths>;

/**
 * A client that sends the key or token as `Authorization: Bearer` on every request, unless the request
 * sets its own. Errors are RFC 9457 problems in `error`, with `field` naming what was wrong.
 */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  if (options.apiKey !== undefined && options.token !== undefined)
    throw new TypeError('createHeraldClient takes an apiKey or a token, not both');
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const credential = options.apiKey ?? options.token;
  if (credential !== undefined) client.use(bearer(credential));
  return client;
}

function bearer(credential: string): Middleware {
  return {
    onRequest({ request }) {
      if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${credential}`);
      return request;
    },
  };
}
