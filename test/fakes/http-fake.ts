import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as a form or as JSON, whichever it was. */
  form: Record<string, string>;
  json: unknown;
  /** performance.now() on arrival: tests measure send rates by it. */
  at: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the next request meets instead of a normal answer: an error reply, a long wait, or no answer at all. */
export type Fault = Reply | { hang: true } | { delayMs: number };

/**
 * A provider's HTTP API on loopback. Subclasses answer as the real service does; tests queue faults
 * for the next requests (`faults`) or take the whole service down (`down`).
 */
export abstract class FakeHttpProvider {
  readonly requests: RecordedRequest[] = [];
  /** Faults for the next requests, in order. */
  readonly faults: Fault[] = [];
  /** A fault for every request until cleared: the provider is down. */
  down?: Fault;
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly hung = new Set<http.ServerResponse>();
  private port = 0;

  protected abstract answer(request: RecordedRequest): Reply | Promise<Reply>;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests to paths that match, in arrival order. */
  received(path: RegExp = /.*/): RecordedRequest[] {
    return this.requests.filter((r) => path.test(r.path));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.constructor.name}: timed out waiting`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      form: req.headers['content-type']?.includes('form-urlencoded')
        ? Object.fromEntries(new URLSearchParams(body))
        : {},
      json: parseJson(body),
      at: performance.now(),
    };
    this.requests.push(recorded);
    const fault = this.faults.shift() ?? this.down;
    if (fault && 'hang' in fault) {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const reply = fault && 'status' in fault ? fault : await this.answer(recorded);
    const text =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.end(text);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let counter = 0;
/** Ids shaped like the provider's own: a prefix and hex digits. */
export function fakeId(prefix: string, length = 32): string {
  counter++;
  const hex = `${Date.now().toString(16)}${counter.toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2)}`;
  return `${prefix}${hex.padEnd(length, '0').slice(0, length)}`;
}

/** POSTs to one of Herald's webhooks as the provider would. */
export async function postTo(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { method: 'POST', body, headers });
  await response.text();
  return response.status;
}
