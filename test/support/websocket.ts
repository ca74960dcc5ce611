import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

/** One frame of the live inbox as a WebSocket client sees it. */
export interface InboxFrame {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Waits on what a client has heard so far: woken by each thing heard, so a test waits no longer than it must. */
class Heard {
  private waiters: (() => void)[] = [];

  /** Waits until `done` holds; fails after `timeoutMs`, saying what was heard. */
  async until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`heard so far: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  protected wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  protected describe(): string {
    return '';
  }
}

/**
 * A live inbox over WebSocket, its frames kept in order so a test waits for the ones it expects; or,
 * when the upgrade is refused, the HTTP answer.
 */
export class WebSocketReader extends Heard {
  readonly frames: InboxFrame[] = [];
  /** Frames that came as binary: the live inbox sends text. */
  binaryFrames = 0;
  pings = 0;
  /** 101 once upgraded; else the refusal's status, with its body in `refusal`. */
  status = 0;
  refusal?: { contentType?: string; body: Record<string, unknown> };
  closed?: { code: number; reason: string };

  private constructor(private readonly socket: WebSocket) {
    super();
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<WebSocketReader> {
    const reader = new WebSocketReader(new WebSocket(url, { headers }));
    const { socket } = reader;
    socket.on('message', (data, binary) => {
      if (binary) reader.binaryFrames++;
      reader.frames.push(JSON.parse(String(data)) as InboxFrame);
      reader.wake();
    });
    socket.on('ping', () => {
      reader.pings++;
      reader.wake();
    });
    socket.on('close', (code, reason) => {
      reader.closed = { code, reason: String(reason) };
      reader.wake();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => {
        reader.status = 101;
        resolve();
      });
      socket.once('unexpected-response', (request, response) => {
        reader.status = response.statusCode ?? 0;
        let text = '';
        response.on('data', (chunk: Buffer) => (text += String(chunk)));
        response.on('end', () => {
          reader.refusal = { contentType: response.headers['content-type'], body: JSON.parse(text) };
          request.destroy();
          resolve();
        });
      });
      // Kept on: a refused socket dropped later by the test errs again, after the open has settled.
      socket.on('error', reject);
    });
    return reader;
  }

  /** The frames of `event` so far. */
  named(event: string): InboxFrame[] {
    return this.frames.filter((f) => f.event === event);
  }

  /** Waits for a frame of `event` and gives the first. */
  async first(event: string, timeoutMs?: number): Promise<InboxFrame> {
    await this.until(() => this.named(event).length > 0, timeoutMs);
    return this.named(event)[0]!;
  }

  /** Closes from the client's side and waits for the server's answer. */
  async close(): Promise<void> {
    if (this.closed || this.status !== 101) return;
    this.socket.close(1000);
    await this.until(() => this.closed !== undefined);
  }

  /** Drops the connection without a close handshake. */
  terminate(): void {
    this.socket.terminate();
  }

  protected override describe(): string {
    const frames = JSON.stringify(this.frames.map((f) => [f.id, f.event]));
    return `frames ${frames}, ${this.pings} pings, closed ${JSON.stringify(this.closed)}`;
  }
}

/**
 * A WebSocket client that upgrades, then reads frames (while not paused) but never writes: not a pong,
 * not the answer to the server's close (what a client that hangs does).
 */
export class SilentWebSocket extends Heard {
  /** Opcode 8 is a close: its payload is the code (2 bytes) and the reason. */
  readonly frames: { opcode: number; payload: Buffer }[] = [];
  status = 0;
  ended = false;
  private buffer = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    super();
  }

  static async open(url: string): Promise<SilentWebSocket> {
    const { hostname, port, pathname, search } = new URL(url);
    const socket = connect(Number(port), hostname);
    const client = new SilentWebSocket(socket);
    socket.write(
      [
        `GET ${pathname}${search} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    socket.on('data', (chunk: Buffer) => client.take(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      client.ended = true;
      client.wake();
    });
    await client.until(() => client.status > 0 || client.ended);
    return client;
  }

  /** Stops reading: what the server sends fills the sockets' buffers, then waits in the server. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** The close frame's code and reason, once one came. */
  get close(): { code: number; reason: string } | undefined {
    const frame = this.frames.find((f) => f.opcode === 8);
    return frame && { code: frame.payload.readUInt16BE(0), reason: String(frame.payload.subarray(2)) };
  }

  private take(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.status === 0) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.status = Number(/^HTTP\/1\.1 (\d+)/.exec(String(this.buffer.subarray(0, end)))?.[1] ?? -1);
      this.buffer = this.buffer.subarray(end + 4);
    }
    // A server's frames are not masked.
    for (;;) {
      if (this.buffer.length < 2) break;
      let length = this.buffer[1]! & 0x7f;
      let at = 2;
      if (length === 126) [length, at] = [this.buffer.length < 4 ? Infinity : this.buffer.readUInt16BE(2), 4];
      else if (length === 127)
        [length, at] = [this.buffer.length < 10 ? Infinity : Number(this.buffer.readBigUInt64BE(2)), 10];
      if (this.buffer.length < at + length) break;
      this.frames.push({ opcode: this.buffer[0]! & 0x0f, payload: this.buffer.subarray(at, at + length) });
      this.buffer = this.buffer.subarray(at + length);
    }
    this.wake();
  }

  protected override describe(): string {
    return `status ${this.status}, opcodes ${this.frames.map((f) => f.opcode).join(',')}, ended ${this.ended}`;
  }
}
