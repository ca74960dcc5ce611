import { FakeHttpProvider, type RecordedRequest, type Reply } from './http-fake';

export const TELEGRAM_BOT_TOKEN = '123456:telegram-test-token';

/** The Telegram Bot API's sendMessage: `{ ok, result }` or `{ ok: false, error_code, description }`. */
export class FakeTelegram extends FakeHttpProvider {
  /** Chats whose user blocked the bot: 403 Forbidden. */
  readonly blocked = new Set<string>();
  /** Messages answered `ok`, in order. */
  readonly sent: { chatId: string; text: string }[] = [];
  private messageId = 0;

  protected answer(request: RecordedRequest): Reply {
    const match = /^\/bot([^/]+)\/sendMessage$/.exec(request.path);
    if (!match || match[1] !== TELEGRAM_BOT_TOKEN) return telegramError(404, 'Not Found');
    const body = request.json as { chat_id?: string; text?: string };
    if (!body?.chat_id || !body.text) return telegramError(400, 'Bad Request: message text is empty');
    if (this.blocked.has(String(body.chat_id))) return telegramError(403, 'Forbidden: bot was blocked by the user');
    this.sent.push({ chatId: String(body.chat_id), text: body.text });
    return {
      status: 200,
      body: {
        ok: true,
        result: {
          message_id: ++this.messageId,
          chat: { id: body.chat_id },
          date: Math.floor(Date.now() / 1000),
          text: body.text,
        },
      },
    };
  }
}

export function telegramError(code: number, description: string, retryAfter?: number): Reply {
  return {
    status: code,
    body: {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter ? { parameters: { retry_after: retryAfter } } : {}),
    },
  };
}

/** Slack incoming webhooks (`/services/T…/B…/…` → `ok`) and Discord webhooks (`/api/webhooks/id/token`). */
export class FakeChatWebhooks extends FakeHttpProvider {
  private messageId = 1_000_000;

  protected answer(request: RecordedRequest): Reply {
    if (request.path.startsWith('/services/')) {
      const body = request.json as { text?: string };
      if (!body?.text) return { status: 400, body: 'invalid_payload' };
      if (request.path.includes('/gone/')) return { status: 404, body: 'no_service' };
      return { status: 200, body: 'ok' };
    }
    if (request.path.startsWith('/api/webhooks/')) {
      if (request.path.includes('/gone/')) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      const body = request.json as { content?: string };
      if (!body?.content) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
      const id = String(++this.messageId);
      return request.query.get('wait') === 'true'
        ? { status: 200, body: { id, type: 0, content: body.content, channel_id: '42' } }
        : { status: 204 };
    }
    return { status: 404, body: 'not found' };
  }
}

/** A tenant's own endpoint for the webhook channel: it records what arrives and answers 200. */
export class FakeWebhookReceiver extends FakeHttpProvider {
  protected answer(): Reply {
    return { status: 200, body: { received: true } };
  }
}
