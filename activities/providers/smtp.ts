import MailComposer from 'nodemailer/lib/mail-composer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { PermanentProviderError, type OutboundMessage, type Provider, type SendResult, emailHeaders } from './provider';
import { SmtpSessions } from './smtp-sessions';

interface SmtpError extends Error {
  responseCode?: number;
}

/**
 * Email over SMTP, on sessions kept open between messages. The server's acceptance is `sent`: bounces
 * come back later as receipts.
 */
export class SmtpEmailProvider implements Provider {
  readonly name = 'smtp';
  private readonly sessions: SmtpSessions;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.sessions = new SmtpSessions(parseConnectionUrl(smtpUrl));
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const messageId = `<${message.deliveryKey}@herald>`;
    const mail = new MailComposer({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId,
      headers: emailHeaders(message),
    }).compile();
    const sending = this.sessions.send(mail.getEnvelope(), () => mail.createReadStream(), signal);
    try {
      await abortable(sending, signal);
    } catch (error) {
      const code = (error as SmtpError).responseCode;
      // 5xx replies are the receiving server's final word; 4xx and network errors may heal.
      if (code !== undefined && code >= 500) throw new PermanentProviderError((error as Error).message);
      throw error;
    }
    return { providerMessageId: messageId, status: 'sent' };
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }
}

/** Stops waiting when the activity is cancelled, whether for a free session or for the server's reply. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // Once the wait is given up, the send's own end is nobody's: unheard, its rejection (the same
  // cancellation) would end the process, as it did a worker stopping with sends in flight.
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
