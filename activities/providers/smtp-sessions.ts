import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { Pool } from 'tarn';

export interface SmtpSessionOptions extends SMTPConnection.Options {
  /** Sessions open at once (nodemailer's URL parameter `maxConnections`). */
  maxConnections?: number;
  /** Messages one session carries before it is closed and a new one opened (`maxMessages`). */
  maxMessages?: number;
}

interface Session {
  connection: SMTPConnection;
  open: boolean;
  messages: number;
  idleSince: number;
}

/** Closed well before servers drop an idle client (RFC 5321 asks them to wait 5 minutes at least). */
const IDLE_MS = 30_000;
/** A session idle longer than this is checked with RSET before it carries a message. */
const CHECK_AFTER_IDLE_MS = 1_000;

/**
 * SMTP sessions to one server kept open between messages: a message skips the connect, TLS, greeting,
 * EHLO and login that a session of its own pays. A message is handed to a session only once one is free
 * and its sender still wants it sent, so a send given up while it waited is never delivered later.
 * Connection settings come from the SMTP URL, as nodemailer reads it.
 */
export class SmtpSessions {
  private readonly pool: Pool<Session>;
  private readonly maxMessages: number;

  constructor(options: SmtpSessionOptions) {
    this.maxMessages = Number(options.maxMessages ?? 100);
    this.pool = new Pool<Session>({
      create: () => openSession(options),
      destroy: closeSession,
      validate: (session) => session.open,
      min: 0,
      max: Number(options.maxConnections ?? 10),
      // A server that refuses the connection or the login fails the send that asked for the session.
      propagateCreateError: true,
      idleTimeoutMillis: IDLE_MS,
      reapIntervalMillis: IDLE_MS / 3,
    });
  }

  /** Sends one message on a free session, unless `signal` was aborted while it waited for one. */
  async send(envelope: SMTPConnection.Envelope, message: () => Readable, signal: AbortSignal): Promise<void> {
    const session = await this.liveSession();
    if (signal.aborted) {
      this.pool.release(session);
      throw signal.reason;
    }
    // Given up mid-session, the connection is closed: the server discards a message it has not taken yet,
    // and a server that hangs does not keep the session from the sends behind it.
    const abandon = () => session.connection.close();
    signal.addEventListener('abort', abandon, { once: true });
    try {
      await exchange(session, (done) => session.connection.send(envelope, message(), done));
      session.messages++;
    } catch (error) {
      // A refused or broken transaction leaves the session in a state not worth repairing.
      session.open = false;
      throw error;
    } finally {
      signal.removeEventListener('abort', abandon);
      if (session.messages >= this.maxMessages) session.open = false;
      session.idleSince = performance.now();
      // A session no longer open is closed by the pool instead of being handed out again.
      this.pool.release(session);
    }
  }

  /** Closes the idle sessions now and the busy ones as their messages finish. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /** A free session; one that sat idle long enough for the server to have dropped it is checked first. */
  private async liveSession(): Promise<Session> {
    for (;;) {
      const session = await this.pool.acquire().promise;
      if (performance.now() - session.idleSince < CHECK_AFTER_IDLE_MS) return session;
      const alive = await exchange(session, (done) => session.connection.reset(done)).then(
        () => true,
        () => false,
      );
      if (alive) return session;
      session.open = false;
      this.pool.release(session);
    }
  }
}

const serverClosed = () => new Error('The SMTP server closed the connection');

function openSession(options: SMTPConnection.Options): Promise<Session> {
  return new Promise<Session>((resolve, reject) => {
    const connection = new SMTPConnection(options);
    const session: Session = { connection, open: false, messages: 0, idleSince: performance.now() };
    let settled = false;
    const fail = (error: Error) => {
      session.open = false;
      if (settled) return;
      settled = true;
      connection.close();
      reject(error);
    };
    // Always listened to: a session that breaks while idle must not crash the process, only leave the pool.
    connection.on('error', fail);
    connection.once('end', () => fail(serverClosed()));
    connection.connect((error) => {
      if (error) return fail(error);
      // A message's last lines are small writes: held back until the server acknowledges the ones before
      // (Nagle's algorithm meeting delayed ACKs), every message waited ≈40 ms for nothing.
      (connection as unknown as { _socket?: Socket })._socket?.setNoDelay(true);
      const credentials = options.auth as Partial<SMTPConnection.Credentials> | undefined;
      const done = (loginError?: Error) => {
        if (loginError) return fail(loginError);
        if (settled) return;
        settled = true;
        session.open = true;
        resolve(session);
      };
      // As nodemailer does: log in where the server offers it (a local relay may take mail without).
      if (credentials?.user && (connection as { allowsAuth?: boolean }).allowsAuth) {
        connection.login({ credentials: { user: credentials.user, pass: credentials.pass ?? '' } }, done);
      } else done();
    });
  });
}

function closeSession(session: Session): void {
  if (session.open) session.connection.quit();
  else session.connection.close();
  session.open = false;
}

/** One command exchange on a session; rejects if the server closes or the socket breaks meanwhile. */
function exchange(session: Session, command: (done: (error?: Error | null) => void) => void): Promise<void> {
  const { connection } = session;
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => finish(error);
    const onEnd = () => finish(serverClosed());
    const finish = (error?: Error | null) => {
      connection.removeListener('error', onError);
      connection.removeListener('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    connection.once('error', onError);
    connection.once('end', onEnd);
    command(finish);
  });
}
