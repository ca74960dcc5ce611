import type { ChangeResult, ChangeTarget, InboxChange, InboxCounts, InboxFeed, InboxPage, ListQuery } from './types';

/** A recipient token, or a function that fetches one from the app's backend (called again when one is refused). */
export type TokenSource = string | (() => string | Promise<string>);

export interface Connection {
  /** Where Herald answers, e.g. `https://herald.example.com`; empty for the page's own origin. */
  baseUrl: string;
  recipientId: string;
  token: TokenSource;
  fetch?: typeof fetch;
}

/** A refused or failed request, with the problem Herald described (RFC 9457). */
export class InboxError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'InboxError';
  }
}

/** The recipient's inbox routes over HTTP, with its token. */
export function inboxHttp(connection: Connection) {
  const base = connection.baseUrl.replace(/\/+$/, '');
  const recipient = `/recipients/${encodeURIComponent(connection.recipientId)}`;
  const fetchFn = connection.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let current: Promise<string> | undefined;

  /** The token in use; a new one from the source when `stale` is the one just refused. */
  function token(stale?: Promise<string>): Promise<string> {
    const source = connection.token;
    if (typeof source === 'string') return Promise.resolve(source);
    // Requests refused at once share one new token.
    if (!current || current === stale) {
      const fetched = Promise.resolve().then(source);
      // A failed fetch is not kept: the next request asks again.
      fetched.catch(() => current === fetched && (current = undefined));
      current = fetched;
    }
    return current;
  }

  async function request<T>(method: string, path: string, body?: object): Promise<T> {
    let used = token();
    for (let attempt = 0; ; attempt++) {
      const response = await fetchFn(base + path, {
        method,
        headers: {
          authorization: `Bearer ${await used}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (response.status === 401 && attempt === 0 && typeof connection.token === 'function') {
        used = token(used);
        continue;
      }
      if (!response.ok) throw await errorOf(response);
      return (response.status === 204 ? undefined : await response.json()) as T;
    }
  }

  return {
    token,
    list(query: ListQuery = {}): Promise<InboxPage> {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
      const search = params.toString();
      return request('GET', `${recipient}/inbox${search ? `?${search}` : ''}`);
    },
    counts(feeds?: string[]): Promise<InboxCounts & { feeds?: Record<string, InboxCounts> }> {
      const search = feeds?.length ? `?feeds=${feeds.map(encodeURIComponent).join(',')}` : '';
      return request('GET', `${recipient}/inbox/counts${search}`);
    },
    change(change: InboxChange, target: ChangeTarget, until?: Date): Promise<ChangeResult> {
      return request('POST', `${recipient}/inbox/${change}`, {
        ...target,
        ...(until ? { until: until.toISOString() } : {}),
      });
    },
    remove(id: number): Promise<void> {
      return request('DELETE', `${recipient}/inbox/messages/${id}`);
    },
    async feeds(): Promise<InboxFeed[]> {
      return (await request<{ feeds: InboxFeed[] }>('GET', '/settings/inbox')).feeds;
    },
    /** The live stream's address: EventSource cannot send headers, so the token rides in the query. */
    async streamUrl(stale?: boolean): Promise<string> {
      const value = await (stale ? token(current) : token());
      return `${base}/inbox/stream?token=${encodeURIComponent(value)}`;
    },
  };
}

export type InboxHttp = ReturnType<typeof inboxHttp>;

async function errorOf(response: Response): Promise<InboxError> {
  const problem = (await response.json().catch(() => ({}))) as { title?: string; detail?: string };
  return new InboxError(response.status, problem.detail ?? problem.title ?? `Herald answered ${response.status}`);
}
