import type { Dispatcher } from 'undici';
import { PermanentProviderError, ProviderRefusedError, TransientProviderError } from './provider';
import { privateAddressRefusal } from '../../domain/public-addresses';

/** How long one provider request may take before it counts as a transient failure. */
export const PROVIDER_TIMEOUT_MS = 10_000;

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** One HTTP call to a provider, given up after the timeout or when the activity is cancelled. */
export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Dispatcher },
  signal: AbortSignal,
  timeoutMs = PROVIDER_TIMEOUT_MS,
): Promise<HttpReply> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'POST',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      // Node's fetch takes an undici dispatcher; its own types do not say so.
      ...(init.dispatcher ? ({ dispatcher: init.dispatcher } as object) : {}),
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const refusal = privateAddressRefusal(error);
    if (refusal) throw new PermanentProviderError(refusal);
    throw new TransientProviderError(`${new URL(url).host} unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: parseJson(text) };
}

export function postJson(url: string, body: unknown, signal: AbortSignal, headers: Record<string, string> = {}) {
  return request(
    url,
    { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    signal,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The usual meaning of a failed reply: 429 and 5xx may heal (after `Retry-After`), 401/403 mean the
 * provider refuses Herald's credentials, any other 4xx rejects this message for good.
 */
export function httpFailure(provider: string, reply: HttpReply, detail = reply.text.slice(0, 300)): Error {
  const message = `${provider} answered ${reply.status}: ${detail}`;
  if (reply.status === 429 || reply.status >= 500)
    return new TransientProviderError(message, retryAfterMs(reply.headers.get('retry-after')));
  if (reply.status === 401 || reply.status === 403) return new ProviderRefusedError(message);
  return new PermanentProviderError(message);
}

/** The base URL's origin and path prefix put in front of a path, whatever the configured URL ends with. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
