import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  /** What it met: the status answered, or no answer (`hang`, `closed`); unset until then. */
  outcome?: number | 'hang' | 'closed';
  /** Whether that answer was a fault rather than the service's own. */
  faulted?: boolean;
  /** performance.now() when a hung request's connection closed (the client gave up); unset while open. */
  closedAt?: number;
  /** Who held the connection's client end, when `senderOf` could tell. */
  sender?: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * What the next request meets instead of a normal answer: an error reply, a long wait, no answer at
 * all, or its connection closed without an answer.
 */
export type Fault = Reply | { hang: true } | { delayMs: number } | { close: true };

/** Chances (0 to 1) that any one request meets a fault: a provider that misbehaves now and then. */
export interface RandomFaults {
  /** Never answered (the client's timeout ends it). */
  hang?: number;
  /** 503 Service Unavailable. */
  unavailable?: number;
  /** The connection closed before any answer. */
  close?: number;
}

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
  /** Faults drawn at random for requests that meet neither of the above. */
  randomFaults?: RandomFaults;
  /** Names who holds a new connection's client end (its port, and this server's), for `sender`. */
  senderOf?: (clientPort: number, serverPort: number) => string | undefined;
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly senders = new WeakMap<Socket, string>();
  private readonly hung = new Set<http.ServerResponse>();
  private port = 0;

  protected abstract answer(request: RecordedRequest): Reply | Promise<Reply>;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.server.on('connection', (socket: Socket) => {
      const sender = this.senderOf?.(socket.remotePort!, this.port);
      if (sender) this.senders.set(socket, sender);
    });
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
      ...(this.senders.has(req.socket) ? { sender: this.senders.get(req.socket) } : {}),
    };
    this.requests.push(recorded);
    const fault = this.faults.shift() ?? this.down ?? randomFault(this.randomFaults);
    if (fault && 'hang' in fault) {
      Object.assign(recorded, { outcome: 'hang', faulted: true });
      this.hung.add(res);
      res.on('close', () => {
        recorded.closedAt = performance.now();
        this.hung.delete(res);
      });
      return;
    }
    if (fault && 'close' in fault) {
      Object.assign(recorded, { outcome: 'closed', faulted: true });
      req.socket.destroy();
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    const reply = fault && 'status' in fault ? fault : await this.answer(recorded);
    Object.assign(recorded, { outcome: reply.status, faulted: reply === fault });
    const text =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.end(text);
  }
}

function randomFault(chances: RandomFaults | undefined): Fault | undefined {
  if (!chances) return undefined;
  let roll = Math.random();
  for (const [kind, chance = 0] of Object.entries(chances) as [keyof RandomFaults, number | undefined][]) {
    if (roll < chance)
      return kind === 'hang'
        ? { hang: true }
        : kind === 'close'
          ? { close: true }
          : { status: 503, body: 'service unavailable' };
    roll -= chance;
  }
  return undefined;
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
