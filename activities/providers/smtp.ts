import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { PermanentProviderError, type OutboundMessage, type Provider, type SendResult, emailHeaders } from './provider';

interface SmtpError extends Error {
  responseCode?: number;
}

/** Email over SMTP. The server's acceptance is `sent`: bounces come back later as receipts. */
export class SmtpEmailProvider implements Provider {
  readonly name = 'smtp';
  private readonly transport: nodemailer.Transporter<SMTPTransport.SentMessageInfo>;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const messageId = `<${message.deliveryKey}@herald>`;
    const sending = this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId,
      headers: emailHeaders(message),
    });
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
    this.transport.close();
  }
}

/** Stops waiting when the activity is cancelled; the abandoned SMTP session dies with its socket. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
