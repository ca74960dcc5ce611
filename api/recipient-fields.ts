import type { RecipientRow } from '../db/recipients';

/** A stored profile in the API's words: the one row-to-contact mapping, for its route and for POST /notify. */
export function recipientFields(r: RecipientRow) {
  return {
    email: r.email ?? undefined,
    phone: r.phone ?? undefined,
    push_tokens: r.pushTokens,
    locale: r.locale ?? undefined,
    timezone: r.timezone ?? undefined,
    telegram_chat_id: r.telegramChatId ?? undefined,
    slack_webhook_url: r.slackWebhookUrl ?? undefined,
    discord_webhook_url: r.discordWebhookUrl ?? undefined,
  };
}
