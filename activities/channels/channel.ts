import type { Channel } from '../../domain/channels';
import type { Contact, DeliveryDetails, Message, MessageAction } from '../../domain/notification';

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
}

/** What a channel knows: where a contact is reached on it and how a message reads there. */
export interface ChannelPlugin {
  readonly channel: Channel;
  /** Where the contact is reached, best first; a recipient with several devices has several push tokens. */
  addressesOf(contact: Contact): string[];
  /** Why a contact without an address cannot be reached, for the delivery's error. */
  readonly missingAddress: string;
  render(message: Message): RenderedMessage;
}

export const single = (address: string | undefined): string[] => (address ? [address] : []);

/** Actions as plain-text lines, for channels that cannot show a button. */
export function withActionLinks(text: string, actions: MessageAction[] | undefined): string {
  if (!actions?.length) return text;
  return `${text}\n\n${actions.map((a) => `${a.label}: ${a.url}`).join('\n')}`;
}
