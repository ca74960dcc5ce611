import { httpFailure, joinUrl, postJson } from './http';
import { emailHeaders, type OutboundMessage, type Provider, type SendResult } from './provider';

export interface SendGridSettings {
  apiKey: string;
  from: string;
  baseUrl: string;
}

/** Email through SendGrid's v3 Mail Send API; its event webhook reports delivery, bounces, opens and clicks. */
export class SendGridEmailProvider implements Provider {
  readonly name = 'sendgrid';
  private readonly from: { email: string; name?: string };

  constructor(private readonly settings: SendGridSettings) {
    this.from = parseAddress(settings.from);
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const content = [{ type: 'text/plain', value: message.text }];
    if (message.html) content.push({ type: 'text/html', value: message.html });
    const reply = await postJson(
      joinUrl(this.settings.baseUrl, '/v3/mail/send'),
      {
        personalizations: [{ to: [{ email: message.to }] }],
        from: this.from,
        subject: message.subject,
        content,
        headers: emailHeaders(message),
        custom_args: { herald_delivery: message.deliveryKey },
        ...(message.category ? { categories: [message.category] } : {}),
      },
      signal,
      { authorization: `Bearer ${this.settings.apiKey}` },
    );
    if (reply.status !== 202 && reply.status !== 200) throw httpFailure(this.name, reply);
    const id = reply.headers.get('x-message-id');
    // Event webhooks name the message `<X-Message-Id>.<suffix>`: receipts are matched on the prefix.
    return { providerMessageId: id ?? message.deliveryKey, status: 'sent' };
  }
}

/** `Name <email>` or a bare address, as EMAIL_FROM is written. */
function parseAddress(value: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(value);
  return match ? { email: match[2]!, ...(match[1] ? { name: match[1] } : {}) } : { email: value.trim() };
}
