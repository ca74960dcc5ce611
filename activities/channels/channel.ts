import type { Channel } from '../../domain/channels';
import type { Contact, Message } from '../../domain/notification';

/** What a channel knows: where a contact is reached on it and how a message reads there. */
export interface ChannelPlugin {
  readonly channel: Channel;
  addressOf(contact: Contact): string | undefined;
  /** Why a contact without an address cannot be reached, for the delivery's error. */
  readonly missingAddress: string;
  render(message: Message): { subject?: string; text: string; html?: string };
}
