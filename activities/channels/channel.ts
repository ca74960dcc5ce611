import type { Channel } from '../../domain/channels';
import type { DeliveryDetails, Message, MessageAction } from '../../domain/notification';

/** A message as one channel will carry it. */
export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
  actions?: MessageAction[];
  details?: DeliveryDetails;
  /** From a template: a push message's data, a webhook's payload, Slack's blocks. */
  data?: Record<string, string>;
  payload?: unknown;
  blocks?: unknown[];
  /** The notification's `group_key`: the in-app inbox shows a group's messages as one entry. */
  groupKey?: string;
}

/** How a message reads on one channel (where a contact is reached on it: domain/channel-addresses). */
export interface ChannelPlugin {
  readonly channel: Channel;
  render(message: Message): RenderedMessage;
}

/** Actions as plain-text lines, for channels that cannot show a button. */
export function withActionLinks(text: string, actions: MessageAction[] | undefined): string {
  if (!actions?.length) return text;
  return `${text}\n\n${actions.map((a) => `${a.label}: ${a.url}`).join('\n')}`;
}
