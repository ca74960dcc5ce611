import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import PostalMime from 'postal-mime';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedMail {
  from?: string;
  to: string[];
  subject?: string;
  text?: string;
  html?: string;
  messageId?: string;
  headers: Record<string, string>;
  /** performance.now() when the message was complete: benchmarks time deliveries by it. */
  receivedAt: number;
  /** Who held the session's client end, when `senderOf` could tell. */
  sender?: string;
}

type Reply = { code: number; message: string };
/** Accept, but only after this long: a slow provider. */
type Delay = { delayMs: number };

/**
 * Chances (0 to 1) that a MAIL FROM meets a fault: the connection dropped, a transient 451 reply
 * (the message is not taken, a later try may be), or no reply at all.
 */
export interface RandomSmtpFaults {
  drop?: number;
  transient?: number;
  hang?: number;
}

/**
 * A real SMTP server on loopback. Scripts its replies to MAIL FROM so tests can make a send
 * fail, fail for good, or hang mid-session.
 */
export class FakeSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Replies for the next MAIL FROM commands, in order; `hang` never replies. */
  readonly script: (Reply | Delay | 'hang')[] = [];
  mailFromCount = 0;
  /** SMTP sessions opened so far. */
  connections = 0;
  /** Faults drawn at random for MAIL FROM commands the script leaves alone. */
  randomFaults?: RandomSmtpFaults;
  /** Random faults met so far, by kind. */
  readonly faultsMet = { drop: 0, transient: 0, hang: 0 };
  /** Names who holds a new session's client end (its port, and this server's), for `sender`. */
  senderOf?: (clientPort: number, serverPort: number) => string | undefined;
  /** Who holds each open session's client end, by its port. */
  private readonly senders = new Map<number, string>();
  private readonly server: SMTPServer;
  /** Open client sockets by their port, so a fault can drop a session's connection. */
  private readonly sockets = new Map<number, Socket>();
  private port = 0;
  private waiters: (() => void)[] = [];

  /** With `users`, a client must log in as one of them (name → password). */
  constructor(users?: Record<string, string>) {
    const options: SMTPServerOptions = {
      authOptional: !users,
      allowInsecureAuth: true,
      onAuth: (auth, _session, callback) =>
        users && users[auth.username ?? ''] === auth.password
          ? callback(null, { user: auth.username })
          : callback(new Error('Invalid username or password')),
      onConnect: (_session, callback) => {
        this.connections++;
        callback();
      },
      closeTimeout: 1000,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onMailFrom: (_address, session, callback) => {
        this.mailFromCount++;
        this.notify();
        const next = this.script.shift() ?? this.randomFault();
        if (next === 'drop') return void this.sockets.get(session.remotePort)?.destroy();
        if (next === 'hang') return;
        if (next && 'delayMs' in next) return void setTimeout(() => callback(), next.delayMs);
        if (next) return callback(Object.assign(new Error(next.message), { responseCode: next.code }));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const receivedAt = performance.now();
          const parsed = await PostalMime.parse(Buffer.concat(chunks));
          this.received.push({
            from: parsed.from?.address,
            to: (parsed.to ?? []).map((a) => a.address ?? ''),
            subject: parsed.subject,
            text: parsed.text?.trim(),
            html: parsed.html,
            messageId: parsed.messageId,
            headers: Object.fromEntries(parsed.headers.map((h) => [h.key, h.value])),
            receivedAt,
            ...(this.senders.has(session.remotePort) ? { sender: this.senders.get(session.remotePort) } : {}),
          });
          this.notify();
          callback();
        });
      },
    };
    this.server = new SMTPServer(options);
    // A client that dies mid-session resets its connection: that ends the session, not the server.
    this.server.on('error', () => {});
    this.server.server.on('connection', (socket: Socket) => {
      const port = socket.remotePort!;
      this.sockets.set(port, socket);
      const sender = this.senderOf?.(port, this.port);
      if (sender) this.senders.set(port, sender);
      socket.on('close', () => {
        this.sockets.delete(port);
        this.senders.delete(port);
      });
    });
  }

  private randomFault(): Reply | 'hang' | 'drop' | undefined {
    if (!this.randomFaults) return undefined;
    let roll = Math.random();
    for (const kind of ['drop', 'transient', 'hang'] as const) {
      const chance = this.randomFaults[kind] ?? 0;
      if (roll < chance) {
        this.faultsMet[kind]++;
        return kind === 'transient' ? { code: 451, message: 'Try again later' } : kind;
      }
      roll -= chance;
    }
    return undefined;
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once `predicate` holds, checked after every SMTP event. */
  async waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('FakeSmtpServer: timed out waiting');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
