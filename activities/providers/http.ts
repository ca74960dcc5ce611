import type { Dispatcher } from 'undici';
import { PermanentProviderError, ProviderRefusedError, TransientProviderError } from './provider';
import { privateAddressRefusal } from '../../domain/public-addresses';

/** How long one provider request may take before it counts as a transient failure. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/**
 * The most of an answer's body Herald reads. Providers answer with a few kilobytes; an endpoint a
 * tenant or a recipient names could stream gigabytes within the timeout into a worker's memory.
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * One HTTP call to a provider, given up after the timeout or when the activity is cancelled. Redirects
 * are not followed: no provider's API answers with one, and a followed redirect would take a request
 * meant for one server (a tenant's endpoint) to any other, unchecked.
 */
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
      redirect: 'manual',
      // Node's fetch takes an undici dispatcher; its own types do not say so.
      ...(init.dispatcher ? ({ dispatcher: init.dispatcher } as object) : {}),
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const refusal = privateAddressRefusal(error);
    if (refusal) throw new PermanentProviderError(refusal);
    throw new TransientProviderError(`${new URL(url).host} unreachable: ${(error as Error).message}`);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw redirectRefusal(url, response);
  }
  const text = await readCapped(response, MAX_ANSWER_BYTES);
  return { status: response.status, headers: response.headers, text, json: parseJson(text) };
}

export function postJson(url: string, body: unknown, signal: AbortSignal, headers: Record<string, string> = {}) {
  return request(
    url,
    { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
    signal,
  );
}

/**
 * A redirect is named by status and target host only: the rest of its location is the answering
 * server's business. It fails for good: Herald follows none, so every retry would meet the same answer
 * until the URL itself is changed to where the redirect leads.
 */
function redirectRefusal(url: string, response: Response): PermanentProviderError {
  const location = response.headers.get('location');
  const to = location !== null && URL.canParse(location, url) ? new URL(location, url).host : undefined;
  const redirect = to ? `a redirect to ${oneLine(to, 100)}` : 'a redirect';
  return new PermanentProviderError(
    `the endpoint answered ${response.status}, ${redirect}, which Herald does not follow`,
  );
}

/** The body's first `limit` bytes as text; the rest is never read (the connection is closed). */
async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, limit - size));
    size += Math.min(value.byteLength, limit - size);
  }
  if (size >= limit) await reader.cancel();
  return Buffer.concat(chunks).toString('utf8');
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
 * A failed reply from a provider's own API: its status and the start of its answer on one line, which
 * says why the provider refused.
 */
export function httpFailure(provider: string, reply: HttpReply): Error {
  const detail = oneLine(reply.text);
  const retryAfter = retryAfterMs(reply.headers.get('retry-after'));
  return failure(`${provider} answered ${reply.status}${detail ? `: ${detail}` : ''}`, reply.status, retryAfter);
}

/**
 * A failed reply from a URL a tenant or recipient chose: its status (and when to come back) only,
 * never its answer, which lands in a record the tenant reads and may come from anywhere the URL leads.
 */
export function statusFailure(
  provider: string,
  reply: HttpReply,
  retryAfter = retryAfterMs(reply.headers.get('retry-after')),
): Error {
  const wait =
    retryAfter !== undefined && isTransient(reply.status) ? `, retry after ${+(retryAfter / 1000).toFixed(1)} s` : '';
  return failure(`${provider} answered ${reply.status}${wait}`, reply.status, retryAfter);
}

const isTransient = (status: number) => status === 429 || status >= 500;

/**
 * The usual meaning of a failed reply: 429 and 5xx may heal (after `Retry-After`), 401/403 mean the
 * provider refuses Herald's credentials, any other 4xx rejects this message for good.
 */
function failure(message: string, status: number, retryAfter: number | undefined): Error {
  if (isTransient(status)) return new TransientProviderError(message, retryAfter);
  if (status === 401 || status === 403) return new ProviderRefusedError(message);
  return new PermanentProviderError(message);
}

/** Text from elsewhere made fit for an error: control characters and line breaks as spaces, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const line = text.replace(/[\p{Cc}\s]+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The base URL's origin and path prefix put in front of a path, whatever the configured URL ends with. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
