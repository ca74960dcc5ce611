import { httpFailure, joinUrl, oneLine, request } from './http';
import {
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

export interface VonageSettings {
  apiKey: string;
  apiSecret: string;
  from: string;
  baseUrl: string;
}

interface VonageReply {
  messages?: { status?: string; 'message-id'?: string; 'error-text'?: string }[];
}

/** Vonage SMS API status codes that may heal, and those that mean Vonage refuses Herald's account. */
const TRANSIENT = new Set(['1', '5', '10']);
const REFUSED = new Set(['4', '8', '9', '11', '15', '23', '32', '33']);

/** SMS through Vonage's SMS API: the second SMS provider, a different network path from Twilio. */
export class VonageSmsProvider implements Provider {
  readonly name = 'vonage';
  constructor(private readonly settings: VonageSettings) {}

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const form = new URLSearchParams({
      api_key: this.settings.apiKey,
      api_secret: this.settings.apiSecret,
      from: this.settings.from,
      to: message.to.replace(/^\+/, ''),
      text: message.text,
      'client-ref': message.deliveryKey.slice(0, 100),
      ...(message.details?.encoding === 'UCS-2' ? { type: 'unicode' } : {}),
    });
    const reply = await request(
      joinUrl(this.settings.baseUrl, '/sms/json'),
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
      signal,
    );
    if (reply.status !== 200) throw httpFailure(this.name, reply);
    // Vonage answers 200 even for a rejected message: the verdict is each part's status.
    const parts = (reply.json as VonageReply | undefined)?.messages ?? [];
    const failed = parts.find((p) => p.status !== '0');
    if (failed || parts.length === 0) {
      const code = failed?.status ?? 'none';
      const text = `vonage status ${code}: ${oneLine(failed?.['error-text'] ?? 'no message parts in the reply')}`;
      if (TRANSIENT.has(code)) throw new TransientProviderError(text);
      if (REFUSED.has(code)) throw new ProviderRefusedError(text);
      throw new PermanentProviderError(text);
    }
    return { providerMessageId: parts[0]!['message-id']!, status: 'sent' };
  }
}
