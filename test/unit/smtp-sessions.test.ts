import { PermanentProviderError, type OutboundMessage } from '../../activities/providers/provider';
import { SmtpEmailProvider } from '../../activities/providers/smtp';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { freePort } from '../support/temporal';

const message = (subject: string): OutboundMessage => ({
  tenantId: 't',
  notificationId: subject,
  recipientId: 'r',
  channel: 'email',
  to: 'ada@example.com',
  subject,
  text: `text of ${subject}`,
  deliveryKey: subject,
});
const never = new AbortController().signal;
/** Jest's fake timers for the clock alone: the SMTP exchanges and the pool keep their real timers. */
const everythingButPerformance = [
  'Date',
  'hrtime',
  'nextTick',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

describe('SMTP sessions kept open between messages', () => {
  let smtp: FakeSmtpServer;
  let provider: SmtpEmailProvider | undefined;
  const subjects = () => smtp.received.map((m) => m.subject).sort();
  const providerOn = (query = '', url = smtp.url) =>
    (provider = new SmtpEmailProvider(`${url}${query}`, 'herald@example.com'));

  beforeEach(async () => {
    // A port of its own, so the tests that restart the server find it free again.
    smtp = await new FakeSmtpServer().start(await freePort());
  });
  afterEach(async () => {
    jest.useRealTimers();
    await provider?.close();
    provider = undefined;
    await smtp.stop();
  });

  it('carries consecutive messages over one session', async () => {
    const email = providerOn();
    for (const n of [1, 2, 3, 4, 5]) await email.send(message(`m${n}`), never);
    expect(subjects()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(smtp.received[4]).toMatchObject({ from: 'herald@example.com', to: ['ada@example.com'], text: 'text of m5' });
    expect(smtp.connections).toBe(1);
  });

  it('opens at most maxConnections sessions for concurrent sends', async () => {
    const email = providerOn('?maxConnections=2');
    smtp.script.push(...Array.from({ length: 6 }, () => ({ delayMs: 100 })));
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => email.send(message(`c${n}`), never)));
    expect(subjects()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(smtp.connections).toBe(2);
  });

  it('opens a new session after maxMessages on one', async () => {
    const email = providerOn('?maxMessages=2');
    for (const n of [1, 2, 3, 4, 5]) await email.send(message(`x${n}`), never);
    expect(smtp.received).toHaveLength(5);
    expect(smtp.connections).toBe(3);
  });

  it('gives up a send whose cancellation came before it, leaving no rejection unheard', async () => {
    const email = providerOn();
    const unheard: unknown[] = [];
    const listen = (reason: unknown) => unheard.push(reason);
    process.on('unhandledRejection', listen);
    try {
      const cancelled = new AbortController();
      cancelled.abort(new Error('worker shutting down'));
      await expect(email.send(message('too late'), cancelled.signal)).rejects.toThrow('worker shutting down');
      // The session's own end of the send settles after the provider gave up on it.
      await email.send(message('next'), never);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unheard).toEqual([]);
      expect(subjects()).toEqual(['next']);
    } finally {
      process.off('unhandledRejection', listen);
    }
  });

  it('never delivers a send given up while it waited for a session', async () => {
    const email = providerOn('?maxConnections=1');
    smtp.script.push({ delayMs: 500 });
    const first = email.send(message('first'), never);
    const giveUp = new AbortController();
    const second = email.send(message('given up'), giveUp.signal);
    await smtp.waitFor(() => smtp.mailFromCount === 1);
    giveUp.abort(new Error('cancelled'));
    await expect(second).rejects.toThrow('cancelled');
    await first;
    await email.send(message('third'), never);
    expect(subjects()).toEqual(['first', 'third']);
  });

  it('closes the session of a send given up mid-session, so a hung server does not keep it', async () => {
    const email = providerOn('?maxConnections=1');
    smtp.script.push('hang');
    const giveUp = new AbortController();
    const hung = email.send(message('hung'), giveUp.signal);
    await smtp.waitFor(() => smtp.mailFromCount === 1);
    giveUp.abort(new Error('timed out'));
    await expect(hung).rejects.toThrow('timed out');
    await email.send(message('after'), never);
    expect(subjects()).toEqual(['after']);
    expect(smtp.connections).toBe(2);
  });

  it('checks a session that sat idle before it carries a message, and keeps it when the server answers', async () => {
    // Sessions measure idle time by performance.now(): here it moves only when told to, a second at once.
    jest.useFakeTimers({ doNotFake: [...everythingButPerformance] });
    const email = providerOn();
    await email.send(message('before the pause'), never);
    jest.advanceTimersByTime(1_000);
    await email.send(message('after the pause'), never);
    expect(subjects()).toEqual(['after the pause', 'before the pause']);
    expect(smtp.connections).toBe(1);
  });

  it('checks a session that sat idle before it carries a message, and replaces it when the server refuses', async () => {
    jest.useFakeTimers({ doNotFake: [...everythingButPerformance] });
    const email = providerOn();
    await email.send(message('before'), never);
    // The server shuts down: it takes no new connections, and answers a command on the idle session with 421
    // before it closes it (after a second at most). Another server takes its port.
    const port = Number(new URL(smtp.url).port);
    const stopping = smtp.stop();
    smtp = await new FakeSmtpServer().start(port);
    jest.advanceTimersByTime(1_000);
    // Without the check, the message would meet the 421.
    await email.send(message('after'), never);
    await stopping;
    expect(subjects()).toEqual(['after']);
    expect(smtp.connections).toBe(1);
  });

  it('replaces a session the server closed while it was idle', async () => {
    const email = providerOn();
    await email.send(message('before'), never);
    const port = Number(new URL(smtp.url).port);
    await smtp.stop();
    smtp = await new FakeSmtpServer().start(port);
    await email.send(message('after'), never);
    expect(subjects()).toEqual(['after']);
  });

  it('fails a 5xx reply for good and sends the next message on a fresh session', async () => {
    const email = providerOn();
    await email.send(message('one'), never);
    smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
    await expect(email.send(message('refused'), never)).rejects.toThrow(PermanentProviderError);
    await email.send(message('two'), never);
    expect(subjects()).toEqual(['one', 'two']);
    expect(smtp.connections).toBe(2);
  });

  it('fails every send, waiting ones included, while the server refuses connections', async () => {
    const url = smtp.url;
    await smtp.stop();
    const email = providerOn('?maxConnections=2', url);
    const sends = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => email.send(message(`r${n}`), never)));
    expect(sends.map((s) => s.status === 'rejected' && String(s.reason))).toEqual(
      sends.map(() => expect.stringMatching(/ECONNREFUSED/)),
    );
    smtp = await new FakeSmtpServer().start(Number(new URL(url).port));
    await email.send(message('back'), never);
    expect(subjects()).toEqual(['back']);
  });

  it('logs in with the credentials in the URL, once per session', async () => {
    await smtp.stop();
    smtp = await new FakeSmtpServer({ herald: 's3cret' }).start();
    const url = smtp.url.replace('smtp://', 'smtp://herald:s3cret@');
    const email = providerOn('', url);
    await email.send(message('signed in'), never);
    await email.send(message('still signed in'), never);
    expect(subjects()).toEqual(['signed in', 'still signed in']);
    await provider!.close();

    const wrong = providerOn('', smtp.url.replace('smtp://', 'smtp://herald:wrong@'));
    await expect(wrong.send(message('refused'), never)).rejects.toThrow(/Invalid username or password/);
  });
});
