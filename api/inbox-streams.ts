import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connect';
import {
  INBOX_EVENTS_CHANNEL,
  inboxEventKept,
  inboxEventsAfter,
  latestInboxEventId,
  parseInboxAnnouncement,
  pruneInboxEvents,
} from '../db/inbox-events';
import { inboxCounts, inboxMessagesByIds, type InboxCounts } from '../db/inbox-messages';
import { inboxTokenStanding } from '../db/inbox-tokens';
import type { Listen, StopListening } from '../db/listener';
import { inTenant } from '../db/tenant-scope';
import { inboxMessageJson } from './inbox-json';
import type { InboxSink } from './inbox-sink';
import { Problem } from './problems';
import { revoked } from './recipient-tokens';

export interface StreamLimits {
  /** Open streams per recipient, and per tenant, in this process. */
  perRecipient: number;
  perTenant: number;
  /** How often an idle stream says it is alive: proxies close connections that stay silent. */
  heartbeatMs: number;
  /** What a stream may have waiting for a client that does not read; past it the stream is closed. */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  perRecipient: 10,
  perTenant: 10_000,
  heartbeatMs: 15_000,
  maxBufferedBytes: 1 << 20,
};

/** Events read per query while catching up. */
const EVENTS_AT_ONCE = 100;
/** How long the log keeps events: a live inbox away for longer reloads. */
const EVENTS_KEPT_MS = 86_400_000;
const PRUNE_EVERY_MS = 600_000;

/** Whose live inbox it is. */
export interface StreamCaller {
  tenantId: string;
  recipientId: string;
  /** The token's: the stream ends when it expires, or once the recipient's tokens are revoked. */
  issuedAt: number;
  expiresAt: number;
}

/** A live inbox counted against the limits; `open` puts it on a sink. */
export interface LiveStream extends StreamCaller {
  /** None until it is open: a WebSocket is counted before its upgrade, so one over the limits gets a 429. */
  sink?: InboxSink;
  /** The last event sent. */
  lastId: number;
  /** Its first read is done: events announced before then are in that read, or in the pull that follows it. */
  ready: boolean;
  pulling?: Promise<void>;
  again: boolean;
  closed: boolean;
  expiry?: NodeJS.Timeout;
}

/**
 * The live inboxes open in this API process. Every change to an inbox is an event in the database's log
 * (written by triggers), announced by id on a NOTIFY channel: from every process on PostgreSQL, so a
 * read in one API process reaches a browser on another. An announcement wakes the recipient's streams,
 * which read the events after the last one they sent, with the messages as they are now and the counts,
 * from the tables. A client that reconnects with `Last-Event-ID` gets what it missed the same way. What
 * a stream says goes to its sink, which puts it on the wire: Server-Sent Events or WebSocket frames.
 */
export class InboxStreams {
  private readonly byRecipient = new Map<string, Set<LiveStream>>();
  private readonly perTenant = new Map<string, number>();
  private started?: Promise<StopListening>;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly listen: Listen,
    private readonly limits: StreamLimits,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Counts a live inbox for the caller, SSE and WebSocket alike; over the limits it is a 429 naming them.
   * Counted at once, so streams opening together keep to the limits. `open` it, or `release` it.
   */
  admit(caller: StreamCaller): LiveStream {
    if (this.stopped) throw new Problem(503, 'Live inbox unavailable', 'This API process is stopping: connect again');
    const key = keyOf(caller.tenantId, caller.recipientId);
    const streams = this.byRecipient.get(key) ?? new Set<LiveStream>();
    if (streams.size >= this.limits.perRecipient)
      throw tooMany(`Recipient ${caller.recipientId} has ${streams.size} live inboxes open here, the most allowed`);
    if ((this.perTenant.get(caller.tenantId) ?? 0) >= this.limits.perTenant)
      throw tooMany(`This tenant has ${this.limits.perTenant} live inboxes open here, the most allowed`);
    const stream: LiveStream = { ...caller, lastId: 0, ready: false, again: false, closed: false };
    this.byRecipient.set(key, streams.add(stream));
    this.perTenant.set(caller.tenantId, (this.perTenant.get(caller.tenantId) ?? 0) + 1);
    return stream;
  }

  /** Lets go of a stream admitted but never opened (a WebSocket whose upgrade failed); once closed, nothing. */
  release(stream: LiveStream): void {
    this.close(stream);
  }

  /**
   * Opens an admitted stream on `sink`, resuming after `lastEventId` when given. Resolves once the stream
   * is open; events follow. A stream let go meanwhile, or admitted before the API began stopping, ends.
   */
  async open(stream: LiveStream, lastEventId: string | undefined, sink: InboxSink): Promise<void> {
    if (stream.closed || this.stopped) {
      // Its client is gone already, or the API stopped while it was upgrading: either way it reconnects.
      sink.end('shutdown');
      this.close(stream);
      return;
    }
    stream.sink = sink;
    sink.onClose(() => this.close(stream));
    stream.expiry = setTimeout(() => sink.end('expired'), Math.max(0, stream.expiresAt - Date.now()));
    stream.expiry.unref();
    const { tenantId, recipientId } = stream;
    try {
      await this.start();
      // An id Herald could not have given (-1) cannot be resumed from.
      const resumeFrom =
        lastEventId === undefined ? undefined : /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : -1;
      const { latest, kept, counts } = await inTenant(this.db, tenantId, async (db) => ({
        latest: await latestInboxEventId(db, tenantId, recipientId),
        kept:
          resumeFrom === undefined ||
          resumeFrom === 0 ||
          (resumeFrom > 0 && (await inboxEventKept(db, tenantId, recipientId, resumeFrom))),
        counts: await inboxCounts(db, tenantId, recipientId, new Date()),
      }));
      if (resumeFrom !== undefined && kept && resumeFrom <= latest) {
        stream.lastId = resumeFrom;
      } else {
        // A fresh start, or one the log cannot resume (events gone, or an id it never gave): the client
        // reloads. Either way the event carries the id a reconnect resumes from.
        stream.lastId = latest;
        this.send(stream, latest, resumeFrom === undefined ? 'counts' : 'reset', counts);
      }
      stream.ready = true;
      this.pull(stream);
    } catch (error) {
      sink.end('failed');
      this.close(stream);
      throw error;
    }
  }

  /** Ends every stream (clients reconnect to another process, or to this one once it is back), and listens no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.each((stream) => stream.sink?.end('shutdown'));
    const stop = await this.started?.catch(() => undefined);
    this.started = undefined;
    await stop?.();
  }

  /** Open streams in this process. */
  get size(): number {
    let n = 0;
    for (const streams of this.byRecipient.values()) n += streams.size;
    return n;
  }

  private start(): Promise<StopListening> {
    this.started ??= (async () => {
      const stop = await this.listen(
        INBOX_EVENTS_CHANNEL,
        (payload) => this.heard(payload),
        // Announcements made while the listening connection was down were missed: every stream looks.
        () => this.each((stream) => this.pull(stream)),
      );
      this.timers = [
        setInterval(() => this.each((stream) => stream.sink?.ping()), this.limits.heartbeatMs),
        setInterval(
          () =>
            void pruneInboxEvents(this.db, new Date(Date.now() - EVENTS_KEPT_MS)).catch((error) =>
              this.log.warn({ err: error }, 'could not drop old inbox events'),
            ),
          PRUNE_EVERY_MS,
        ),
      ];
      for (const timer of this.timers) timer.unref();
      return stop;
    })();
    this.started.catch(() => (this.started = undefined));
    return this.started;
  }

  private heard(payload: string): void {
    const announced = parseInboxAnnouncement(payload);
    if (!announced) return;
    const streams = this.byRecipient.get(keyOf(announced.tenantId, announced.recipientId));
    for (const stream of streams ?? []) if (announced.eventId > stream.lastId) this.pull(stream);
  }

  /** Sends the stream the events after its last, one pull at a time; one asked for meanwhile runs after. */
  private pull(stream: LiveStream): void {
    // Before its first read, that read (and the pull after it) takes what this would.
    if (!stream.ready) return;
    if (stream.pulling) {
      stream.again = true;
      return;
    }
    stream.pulling = (async () => {
      do {
        stream.again = false;
        while (!stream.closed && (await this.sendNext(stream)) === EVENTS_AT_ONCE);
      } while (stream.again && !stream.closed);
    })()
      .catch((error) => {
        // The client reconnects and resumes from its last event.
        this.log.warn({ err: error }, 'a live inbox could not read its events; closing it');
        stream.sink?.end('failed');
      })
      .finally(() => (stream.pulling = undefined));
  }

  /** Sends the next events, with their messages as they are now and the counts; how many it sent. */
  private async sendNext(stream: LiveStream): Promise<number> {
    const { tenantId, recipientId } = stream;
    const read = await inTenant(this.db, tenantId, async (db) => {
      const events = await inboxEventsAfter(db, tenantId, recipientId, stream.lastId, EVENTS_AT_ONCE);
      if (events.length === 0) return undefined;
      const standing = await inboxTokenStanding(db, tenantId, recipientId);
      if (!standing || revoked(standing, stream.issuedAt)) return 'revoked';
      const shown = [...new Set(events.filter((e) => e.kind !== 'deleted').flatMap((e) => e.messageIds))];
      const messages = shown.length > 0 ? await inboxMessagesByIds(db, tenantId, recipientId, shown) : [];
      return { events, messages, counts: await inboxCounts(db, tenantId, recipientId, new Date()) };
    });
    if (read === undefined) return 0;
    if (read === 'revoked') {
      stream.sink?.end('revoked');
      return 0;
    }
    const byId = new Map(read.messages.map((m) => [m.id, m]));
    for (const event of read.events) {
      const messages = event.kind === 'deleted' ? [] : event.messageIds.flatMap((id) => byId.get(id) ?? []);
      this.send(stream, event.id, event.kind, read.counts, {
        ids: event.messageIds,
        messages: messages.map(inboxMessageJson),
      });
      stream.lastId = event.id;
    }
    return read.events.length;
  }

  private send(stream: LiveStream, id: number, event: string, counts: InboxCounts, data: object = {}): void {
    if (stream.closed || !stream.sink) return;
    stream.sink.event(id, event, { ...data, counts });
    // A client that stops reading is let go: it reconnects and resumes from the log.
    if (stream.sink.buffered() > this.limits.maxBufferedBytes) stream.sink.end('slow');
  }

  private each(visit: (stream: LiveStream) => void): void {
    for (const streams of this.byRecipient.values()) for (const stream of streams) visit(stream);
  }

  private close(stream: LiveStream): void {
    if (stream.closed) return;
    stream.closed = true;
    clearTimeout(stream.expiry);
    const key = keyOf(stream.tenantId, stream.recipientId);
    const streams = this.byRecipient.get(key);
    streams?.delete(stream);
    if (streams?.size === 0) this.byRecipient.delete(key);
    const left = (this.perTenant.get(stream.tenantId) ?? 1) - 1;
    if (left > 0) this.perTenant.set(stream.tenantId, left);
    else this.perTenant.delete(stream.tenantId);
  }
}

const keyOf = (tenantId: string, recipientId: string) => JSON.stringify([tenantId, recipientId]);

const tooMany = (detail: string) =>
  new Problem(429, 'Too many live inboxes', `${detail}: close one (each browser tab keeps one)`, 'authorization');
