import { get, type ClientRequest, type IncomingMessage } from 'node:http';

/** One Server-Sent Event as a client sees it. */
export interface ServerEvent {
  id?: string;
  event: string;
  data: string;
  /** When it was read (performance.now()). */
  receivedAt: number;
}

/**
 * An event stream read as EventSource reads it (comments skipped, fields joined per blank line), with
 * the events kept in order so a test waits for the ones it expects.
 */
export class EventStreamReader {
  readonly events: ServerEvent[] = [];
  comments = 0;
  private waiters: (() => void)[] = [];
  private request?: ClientRequest;
  status = 0;
  ended = false;

  private constructor() {}

  /** Opens the stream over a connection of its own (fetch's pool would keep a spare one open past the test). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
    const reader = new EventStreamReader();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      reader.request = get(url, { headers, agent: false }, resolve).on('error', reject);
    });
    reader.status = res.statusCode ?? 0;
    if (reader.status === 200) void reader.read(res);
    else {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      reader.events.push({ event: 'problem', data: text, receivedAt: performance.now() });
      reader.ended = true;
    }
    return reader;
  }

  /** Waits until `done` holds for the events so far; fails after `timeoutMs`. */
  async until(done: (events: ServerEvent[]) => boolean, timeoutMs = 10_000): Promise<ServerEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.events)) {
      if (Date.now() > deadline)
        throw new Error(`events so far: ${JSON.stringify(this.events.map((e) => [e.id, e.event, e.data]))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.events;
  }

  /** The events named `event` so far. */
  named(event: string): ServerEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  close(): void {
    this.request?.destroy();
  }

  private async read(body: IncomingMessage): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted by the test, or the server went away.
    }
    this.ended = true;
    this.wake();
  }

  private take(block: string): void {
    const event: ServerEvent = { event: 'message', data: '', receivedAt: performance.now() };
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const [name, value] = colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')];
      if (name === 'id') event.id = value;
      else if (name === 'event') event.event = value;
      else if (name === 'data') event.data = event.data ? `${event.data}\n${value}` : value;
      else continue;
      fields++;
    }
    if (fields > 0 && (event.data !== '' || event.id !== undefined)) this.events.push(event);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
