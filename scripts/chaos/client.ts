/**
 * Herald's API as a careful client calls it: a request without an answer (the API died, the
 * connection was cut, nothing came back in time) or with a 5xx is sent again, with the same
 * Idempotency-Key, to the other API. Every try is kept, so the end can say what each API did with
 * the requests it had when it was stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Attempt {
  api: number;
  method: string;
  path: string;
  /** Wall-clock milliseconds. */
  startedAt: number;
  endedAt?: number;
  /** The HTTP status, or the error that ended it without one. */
  outcome?: number | string;
}

export interface Answer {
  status: number;
  body: unknown;
  /** Tries it took; the last one answered. */
  attempts: Attempt[];
}

/** Ran out of time without an answer from any API. */
export interface NoAnswer {
  status: undefined;
  attempts: Attempt[];
}

export interface CallOptions {
  idempotencyKey?: string;
  /** Gives up after this long without an answer. */
  budgetMs?: number;
  /** Each try waits this long for its answer. */
  timeoutMs?: number;
  /** Which API to try first. */
  firstApi?: number;
}

export class HeraldClient {
  readonly attempts: Attempt[] = [];
  private turn = 0;

  constructor(
    private readonly apis: string[],
    private readonly headers: Record<string, string>,
  ) {}

  async call(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<Answer | NoAnswer> {
    const deadline = Date.now() + (options.budgetMs ?? 120_000);
    const mine: Attempt[] = [];
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let api = options.firstApi ?? this.turn++ % this.apis.length;
    for (let attempt = 0; ; attempt++) {
      const tried: Attempt = { api, method, path, startedAt: Date.now() };
      this.attempts.push(tried);
      mine.push(tried);
      let retryAfterMs = 0;
      try {
        const res = await fetch(`${this.apis[api]}${path}`, {
          method,
          headers: {
            ...this.headers,
            ...(payload ? { 'content-type': 'application/json' } : {}),
            ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
          },
          body: payload,
          signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
        });
        const text = await res.text();
        tried.outcome = res.status;
        tried.endedAt = Date.now();
        if (res.status === 429) retryAfterMs = Number(res.headers.get('retry-after') ?? 1) * 1000;
        else if (res.status < 500) return { status: res.status, body: parse(text), attempts: mine };
      } catch (error) {
        tried.endedAt = Date.now();
        tried.outcome = reason(error);
      }
      if (Date.now() > deadline) return { status: undefined, attempts: mine };
      api = (api + 1) % this.apis.length;
      await sleep(Math.max(retryAfterMs, Math.min(200 * 2 ** attempt, 3000)));
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What ended a try without an answer: the connection's error code, or the timeout. */
function reason(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string }; message?: string };
  if (e.name === 'TimeoutError') return 'timeout';
  return e.cause?.code ?? e.message ?? String(error);
}
