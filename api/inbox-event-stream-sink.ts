import { PassThrough } from 'node:stream';
import type { EndReason, InboxSink } from './inbox-sink';

/** What a client waits before reconnecting: an API restart is over in about that long. */
const RETRY_MS = 1000;

/** A live inbox as Server-Sent Events: `body` is the answer's body. */
export class EventStreamSink implements InboxSink {
  readonly body = new PassThrough();

  constructor() {
    this.write(`retry: ${RETRY_MS}\n\n`);
  }

  event(id: number, name: string, data: object): void {
    this.write(`id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  ping(): void {
    this.write(': ping\n\n');
  }

  end(reason: EndReason): void {
    // What waits for a client that stopped reading is dropped, not flushed: it reconnects and resumes from the log.
    if (reason === 'slow') this.body.destroy();
    else this.body.end();
  }

  buffered(): number {
    return this.body.writableLength;
  }

  onClose(listener: () => void): void {
    if (this.body.closed) listener();
    else this.body.once('close', listener);
  }

  private write(text: string): void {
    if (!this.body.destroyed && !this.body.writableEnded) this.body.write(text);
  }
}
