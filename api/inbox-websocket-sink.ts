import type { WebSocket } from '@fastify/websocket';
import type { EndReason, InboxSink } from './inbox-sink';

/** How long a closed socket's client has to answer the close: one that does not read never would, and ws waits 30 s. */
const CLOSE_GRACE_MS = 3000;

/** What a WebSocket client's close event shows for each end (4000–4999 are the application's own codes). */
export const WEBSOCKET_CLOSES: Record<EndReason, { code: number; reason: string }> = {
  shutdown: { code: 1001, reason: 'This API process is stopping: reconnect and resume' },
  expired: { code: 4401, reason: 'The recipient token expired: reconnect with a new one' },
  revoked: { code: 4401, reason: 'The recipient token was revoked, or its recipient deleted' },
  slow: { code: 1013, reason: 'Too much was left unread: reconnect and resume' },
  failed: { code: 1011, reason: "The inbox's events could not be read: reconnect and resume" },
};

/** A live inbox as WebSocket text frames, each one event: `{"id", "event", "data"}`. */
export class WebSocketSink implements InboxSink {
  constructor(private readonly socket: WebSocket) {}

  event(id: number, name: string, data: object): void {
    // The id is a string, as an event stream's is: it is only ever given back.
    if (this.isOpen()) this.socket.send(JSON.stringify({ id: String(id), event: name, data }));
  }

  ping(): void {
    if (this.isOpen()) this.socket.ping();
  }

  end(reason: EndReason): void {
    if (!this.isOpen()) return;
    const { code, reason: text } = WEBSOCKET_CLOSES[reason];
    this.socket.close(code, text);
    const cut = setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    this.socket.once('close', () => clearTimeout(cut));
  }

  buffered(): number {
    return this.socket.bufferedAmount;
  }

  onClose(listener: () => void): void {
    if (this.socket.readyState === this.socket.CLOSED) listener();
    else this.socket.once('close', listener);
  }

  private isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }
}
