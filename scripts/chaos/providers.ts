/**
 * The loopback providers Herald sends to, misbehaving at random, and what each of them took: the
 * end checks compare Herald's word with these logs, never with Herald's own records alone.
 */
import { FakeWebhookReceiver } from '../../test/fakes/chat';
import type { RandomFaults, RecordedRequest } from '../../test/fakes/http-fake';
import { FakeSmtpServer, type RandomSmtpFaults } from '../../test/fakes/smtp-server';
import { FakeTwilio, TWILIO_SID, TWILIO_TOKEN } from '../../test/fakes/twilio';
import { FakeVonage, VONAGE_KEY, VONAGE_SECRET } from '../../test/fakes/vonage';
import { connectionOwner } from './senders';

/** Each request or session: 2 % hang, 2 % fail for now, 2 % lose their connection. */
const HTTP_FAULTS: RandomFaults = { hang: 0.02, unavailable: 0.02, close: 0.02 };
const SMTP_FAULTS: RandomSmtpFaults = { hang: 0.02, transient: 0.02, drop: 0.02 };

export type ProviderName = 'smtp' | 'twilio' | 'vonage' | 'webhook';
export type ChaosChannel = 'email' | 'sms' | 'webhook';

/** One message a provider took (answered as taken), as its own log has it. */
export interface Arrival {
  provider: ProviderName;
  channel: ChaosChannel;
  /** The load's tag for the notification, read from the message text. */
  tag: string;
  /** The address it went to (the recipient's id for the webhook channel, which has one endpoint). */
  to: string;
  /** What the provider saw of Herald's delivery key (Message-ID, webhook-id, client-ref), if anything. */
  key?: string;
  /** Wall-clock milliseconds. */
  at: number;
  /** The process group (the worker's pid) that sent it, when /proc could tell. */
  sender?: number;
}

/** The load's tag in a message's text (an SMS reads "<subject>: <text>"). */
const TAG = /chaos (n\d+|bcast)\b/;
const wall = (performanceNow: number) => performance.timeOrigin + performanceNow;

export async function startProviders() {
  const [smtp, twilio, vonage, webhook] = await Promise.all([
    new FakeSmtpServer().start(),
    new FakeTwilio().start(),
    new FakeVonage().start(),
    new FakeWebhookReceiver().start(),
  ]);
  smtp.randomFaults = SMTP_FAULTS;
  for (const fake of [twilio, vonage, webhook]) fake.randomFaults = HTTP_FAULTS;

  const env = {
    SMTP_URL: smtp.url,
    EMAIL_FROM: 'Herald <alerts@herald.test>',
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_FROM: '+14155550000',
    TWILIO_API_BASE_URL: twilio.url,
    VONAGE_API_KEY: VONAGE_KEY,
    VONAGE_API_SECRET: VONAGE_SECRET,
    VONAGE_FROM: 'Herald',
    VONAGE_API_BASE_URL: vonage.url,
    // The tenant's webhook endpoint is on loopback.
    HERALD_WEBHOOK_ALLOW_PRIVATE: 'true',
  };

  /** Requests a provider answered as the service itself would, 2xx. */
  const taken = (requests: RecordedRequest[]) =>
    requests.filter((r) => !r.faulted && typeof r.outcome === 'number' && r.outcome < 300);
  const sender = (name: string | undefined) => (name ? { sender: Number(name) } : {});

  function arrivals(): Arrival[] {
    const tagOf = (text: string | undefined) => TAG.exec(text ?? '')?.[1] ?? '';
    return [
      ...smtp.received.map((m): Arrival => ({
        provider: 'smtp',
        channel: 'email',
        tag: tagOf(m.subject),
        to: m.to[0] ?? '',
        key: m.messageId,
        at: wall(m.receivedAt),
        ...sender(m.sender),
      })),
      ...taken(twilio.received(/\/Messages\.json$/)).map((r): Arrival => ({
        provider: 'twilio',
        channel: 'sms',
        tag: tagOf(r.form.Body),
        to: r.form.To!,
        at: wall(r.at),
        ...sender(r.sender),
      })),
      ...taken(vonage.received(/^\/sms\/json$/)).map((r): Arrival => ({
        provider: 'vonage',
        channel: 'sms',
        tag: tagOf(r.form.text),
        // Vonage takes numbers without their plus.
        to: `+${r.form.to!.replace(/^\+/, '')}`,
        key: r.form['client-ref'],
        at: wall(r.at),
        ...sender(r.sender),
      })),
      ...taken(webhook.requests).map((r): Arrival => {
        const data = (r.json as { data?: { text?: string; recipient_id?: string } } | undefined)?.data;
        return {
          provider: 'webhook',
          channel: 'webhook',
          tag: tagOf(data?.text),
          to: data?.recipient_id ?? '',
          key: String(r.headers['webhook-id'] ?? ''),
          at: wall(r.at),
          ...sender(r.sender),
        };
      }),
    ];
  }

  /** The random faults each provider served, by kind. */
  function faultsServed() {
    const count = (requests: RecordedRequest[]) => {
      const faulted = requests.filter((r) => r.faulted);
      return {
        requests: requests.length,
        hang: faulted.filter((r) => r.outcome === 'hang').length,
        closed: faulted.filter((r) => r.outcome === 'closed').length,
        error: faulted.filter((r) => typeof r.outcome === 'number').length,
      };
    };
    return {
      smtp: { sessions: smtp.connections, mailFrom: smtp.mailFromCount, ...smtp.faultsMet },
      twilio: count(twilio.requests),
      vonage: count(vonage.requests),
      webhook: count(webhook.requests),
    };
  }

  return {
    smtp,
    twilio,
    vonage,
    webhook,
    env,
    arrivals,
    faultsServed,
    /** From now on each connection is traced to the process group, of those `groups` names, that opened it. */
    traceSenders(groups: () => number[]) {
      const senderOf = (clientPort: number, serverPort: number) =>
        connectionOwner(clientPort, serverPort, groups())?.toString();
      for (const fake of [smtp, twilio, vonage, webhook]) fake.senderOf = senderOf;
    },
    /** Every SMS sent to Twilio fails for now: the channel fails over to Vonage. */
    twilioDown(down: boolean) {
      twilio.down = down
        ? { status: 503, body: { code: 20503, message: 'Service Unavailable', status: 503 } }
        : undefined;
    },
    async stop() {
      await Promise.all([smtp.stop(), twilio.stop(), vonage.stop(), webhook.stop()]);
    },
  };
}

export type Providers = Awaited<ReturnType<typeof startProviders>>;
