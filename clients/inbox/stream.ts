import type { StreamData, StreamEventKind } from './types';

/** The part of the browser's EventSource used here (a fake in tests). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
}

export type EventSourceClass = new (url: string) => EventSourceLike;

export interface StreamListener {
  /** `fresh`: the first event of a new connection, or a reset: the stream resumed nothing, so reload. */
  event(kind: StreamEventKind, data: StreamData, fresh: boolean): void;
  /** Open, or not (the browser is reconnecting, or the stream is closed and will be opened again). */
  live(live: boolean): void;
  /** The stream closed for good (refused, or not there); another try follows later. */
  closed(): void;
}

const CLOSED = 2;
const KINDS: StreamEventKind[] = ['counts', 'added', 'changed', 'deleted', 'reset'];
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/**
 * The recipient's live stream. The browser reconnects by itself with Last-Event-ID and the server replays
 * what was missed; when the stream closes for good (its token expired, or the server refused it) it is
 * opened again, with a new token, after a wait that doubles up to 30 s, and it starts afresh.
 */
export function openStream(
  url: (renewToken: boolean) => Promise<string>,
  EventSource: EventSourceClass,
  listener: StreamListener,
): { close(): void } {
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;

  async function open(renewToken: boolean) {
    const address = await url(renewToken).catch(() => undefined);
    if (stopped) return;
    if (address === undefined) return retry();
    const opened = new EventSource(address);
    source = opened;
    let fresh = true;
    opened.addEventListener('open', () => {
      failures = 0;
      listener.live(true);
    });
    opened.addEventListener('error', () => {
      listener.live(false);
      if (opened.readyState === CLOSED && source === opened) retry();
    });
    for (const kind of KINDS)
      opened.addEventListener(kind, (event) => {
        const data = JSON.parse(typeof event.data === 'string' && event.data ? event.data : '{}') as StreamData;
        listener.event(kind, data, fresh || kind === 'reset');
        fresh = false;
      });
  }

  function retry() {
    source?.close();
    source = undefined;
    listener.closed();
    const wait = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** failures++);
    timer = setTimeout(() => void open(true), wait * (0.75 + Math.random() / 2));
  }

  void open(false);
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}

/** The part of the browser's WebSocket used here. */
export interface WebSocketLike {
  addEventListener(
    type: 'open' | 'message' | 'close',
    listener: (event: { data?: unknown; code?: number }) => void,
  ): void;
  close(): void;
}

export type WebSocketClass = new (url: string) => WebSocketLike;

/** A token that expired or was revoked: the same URL would be refused, as after an HTTP error. */
const TOKEN_ENDED = 4401;
const RECONNECT_MS = 1000;

/**
 * The live inbox over WebSocket with EventSource's face, to give as the `EventSource` option: for where
 * a proxy passes WebSocket but holds back a long answer. It reconnects as EventSource does, resuming
 * with `?last_event_id=` (a browser's WebSocket sends no headers); one refused (a browser does not say
 * why) or whose token ended is closed, and `openStream` opens it again with a new token.
 */
export function webSocketEventSource(WebSocket: WebSocketClass): EventSourceClass {
  return class implements EventSourceLike {
    readyState = 0;
    private readonly listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();
    private socket?: WebSocketLike;
    private lastId?: string;
    private timer?: ReturnType<typeof setTimeout>;

    constructor(private readonly url: string) {
      this.connect();
    }

    addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }

    close(): void {
      this.readyState = CLOSED;
      clearTimeout(this.timer);
      this.socket?.close();
    }

    private connect(): void {
      // Relative to the page, as EventSource's is.
      const url = new URL(this.url, (globalThis as { location?: { href: string } }).location?.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      if (this.lastId !== undefined) url.searchParams.set('last_event_id', this.lastId);
      const socket = (this.socket = new WebSocket(url.toString()));
      let opened = false;
      socket.addEventListener('open', () => {
        opened = true;
        this.readyState = 1;
        this.emit('open', {});
      });
      socket.addEventListener('message', (event) => {
        const frame = JSON.parse(String(event.data)) as { id: string; event: string; data: unknown };
        this.lastId = frame.id;
        this.emit(frame.event, { data: JSON.stringify(frame.data) });
      });
      socket.addEventListener('close', (event) => {
        if (this.readyState === CLOSED) return;
        this.readyState = opened && event.code !== TOKEN_ENDED ? 0 : CLOSED;
        this.emit('error', {});
        if (this.readyState === 0) this.timer = setTimeout(() => this.connect(), RECONNECT_MS);
      });
    }

    private emit(type: string, event: { data?: unknown }): void {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }
  };
}
