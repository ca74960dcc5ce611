/** Why a live inbox ends: each wire tells its client in its own way (an event stream can only end). */
export type EndReason =
  /** The API process is stopping: reconnect, to another process or to this one once it is back. */
  | 'shutdown'
  /** The recipient token expired: reconnect with a new one. */
  | 'expired'
  /** The recipient's tokens were revoked (or it was deleted): a new token is needed. */
  | 'revoked'
  /** The client left too much unread: reconnect and resume from the last event. */
  | 'slow'
  /** The inbox's events could not be read: reconnect and resume from the last event. */
  | 'failed';

/**
 * Where a live inbox writes. The hub decides what to send and when; a sink decides how it looks on
 * the wire (Server-Sent Events, WebSocket frames).
 */
export interface InboxSink {
  /** One event; `id` is what a reconnect resumes after. */
  event(id: number, name: string, data: object): void;
  /** Says the stream is alive: proxies close connections that stay silent. */
  ping(): void;
  end(reason: EndReason): void;
  /** Bytes written that the client has not taken yet. */
  buffered(): number;
  /** Calls `listener` once the stream is gone, whoever ended it. */
  onClose(listener: () => void): void;
}
