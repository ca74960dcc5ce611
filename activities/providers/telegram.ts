import { joinUrl, oneLine, postJson } from './http';
import {
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

export interface TelegramSettings {
  botToken: string;
  baseUrl: string;
}

interface TelegramReply {
  ok?: boolean;
  result?: { message_id?: number };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/** Chat messages through the Telegram Bot API, with the message's actions as inline buttons. */
export class TelegramProvider implements Provider {
  readonly name = 'telegram';
  constructor(private readonly settings: TelegramSettings) {}

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const text = message.subject ? `${message.subject}\n\n${message.text}` : message.text;
    const reply = await postJson(
      joinUrl(this.settings.baseUrl, `/bot${this.settings.botToken}/sendMessage`),
      {
        chat_id: message.to,
        text,
        ...(message.actions?.length
          ? { reply_markup: { inline_keyboard: message.actions.map((a) => [{ text: a.label, url: a.url }]) } }
          : {}),
      },
      signal,
    );
    const body = (reply.json ?? {}) as TelegramReply;
    if (reply.status === 200 && body.ok && body.result?.message_id !== undefined) {
      return { providerMessageId: `${message.to}:${body.result.message_id}`, status: 'delivered' };
    }
    const detail = `telegram ${body.error_code ?? reply.status}: ${oneLine(body.description ?? reply.text)}`;
    if (reply.status === 429 || reply.status >= 500) {
      const retryAfter = body.parameters?.retry_after;
      throw new TransientProviderError(detail, retryAfter === undefined ? undefined : retryAfter * 1000);
    }
    // 401/404 name a bad bot token; 403 is the user who blocked the bot, 400 a chat that does not exist.
    if (reply.status === 401 || reply.status === 404) throw new ProviderRefusedError(detail);
    throw new PermanentProviderError(detail);
  }
}
