import { joinUrl, postJson, retryAfterMs, statusFailure, type HttpReply } from './http';
import {
  PermanentProviderError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './provider';

/**
 * A chat webhook URL is the recipient's address; the configured base URL (a proxy, a fake) takes the
 * place of its origin. Only the service's own host is accepted, so an address can never aim Herald
 * at another server. With a base URL the address's path is appended to the base's, never resolved
 * against it: resolved, a path such as `//elsewhere/x` names another host.
 */
export function target(address: string, officialOrigin: string, baseUrl?: string): string {
  const url = new URL(address);
  if (url.origin !== officialOrigin) throw new PermanentProviderError(`not a ${officialOrigin} webhook URL`);
  if (!baseUrl) return url.href;
  const base = new URL(baseUrl);
  const joined = new URL(joinUrl(`${base.origin}${base.pathname}`, `${url.pathname}${url.search}`));
  if (joined.origin !== base.origin) throw new PermanentProviderError(`not a ${officialOrigin} webhook URL`);
  return joined.href;
}

/**
 * A chat webhook that is gone or refuses the payload will not heal: only 429 and 5xx are worth
 * retrying. The address is the recipient's, so the error carries the status, not the answer.
 */
function chatFailure(
  provider: string,
  reply: HttpReply,
  retryAfter = retryAfterMs(reply.headers.get('retry-after')),
): Error {
  const failure = statusFailure(provider, reply, retryAfter);
  return failure instanceof TransientProviderError ? failure : new PermanentProviderError(failure.message);
}

export const SLACK_ORIGIN = 'https://hooks.slack.com';
export const DISCORD_ORIGIN = 'https://discord.com';

/** Slack incoming webhooks: text with a section and the actions as link buttons. */
export class SlackWebhookProvider implements Provider {
  readonly name = 'slack';
  constructor(private readonly baseUrl?: string) {}

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const text = message.subject ? `*${message.subject}*\n${message.text}` : message.text;
    // A template's own blocks replace the section Herald would make of the text.
    const blocks: unknown[] = message.blocks
      ? [...message.blocks]
      : [{ type: 'section', text: { type: 'mrkdwn', text } }];
    if (message.actions?.length) {
      blocks.push({
        type: 'actions',
        elements: message.actions.map((a) => ({
          type: 'button',
          text: { type: 'plain_text', text: a.label },
          url: a.url,
        })),
      });
    }
    const reply = await postJson(target(message.to, SLACK_ORIGIN, this.baseUrl), { text, blocks }, signal);
    if (reply.status !== 200) throw chatFailure(this.name, reply);
    // Slack's webhooks return no message id: the delivery key names it.
    return { providerMessageId: `slack:${message.deliveryKey}`, status: 'delivered' };
  }
}

/** Discord webhooks, asked to wait so the reply carries the posted message's id. */
export class DiscordWebhookProvider implements Provider {
  readonly name = 'discord';
  constructor(private readonly baseUrl?: string) {}

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const url = new URL(target(message.to, DISCORD_ORIGIN, this.baseUrl));
    url.searchParams.set('wait', 'true');
    const links = (message.actions ?? []).map((a) => `[${a.label}](${a.url})`).join('  ');
    const reply = await postJson(
      url.href,
      {
        content: [message.subject ? `**${message.subject}**` : undefined, message.text, links || undefined]
          .filter(Boolean)
          .join('\n')
          .slice(0, 2000),
        allowed_mentions: { parse: [] },
      },
      signal,
    );
    if (reply.status === 200) {
      const id = (reply.json as { id?: string } | undefined)?.id;
      return { providerMessageId: `discord:${id ?? message.deliveryKey}`, status: 'delivered' };
    }
    const bodyRetry = (reply.json as { retry_after?: number } | undefined)?.retry_after;
    throw chatFailure(
      this.name,
      reply,
      bodyRetry !== undefined ? bodyRetry * 1000 : retryAfterMs(reply.headers.get('retry-after')),
    );
  }
}
