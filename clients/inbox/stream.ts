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
