import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Channel } from '../domain/channels';
import { PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../domain/delivery-policy';
import type { Contact, Message } from '../domain/notification';
import { channelPlugins } from './channels';
import { PermanentProviderError, type Provider } from './providers/provider';

export interface DeliverInput {
  tenantId: string;
  notificationId: string;
  channel: Channel;
  recipient: Contact;
  message: Message;
  category?: string;
}

export interface DeliverResult {
  status: 'sent' | 'delivered';
  provider: string;
  providerMessageId: string;
  attempts: number;
}

/** Carried by every delivery failure so the workflow can report how many tries it took. */
export interface DeliveryFailureDetails {
  attempts: number;
  provider?: string;
}

export type ProvidersByChannel = Record<Channel, Provider>;

export function createDeliver(providers: ProvidersByChannel) {
  return async function deliver(input: DeliverInput): Promise<DeliverResult> {
    const context = Context.current();
    const attempts = context.info.attempt;
    const plugin = channelPlugins[input.channel];
    const to = plugin.addressOf(input.recipient);
    if (!to) throw failure(plugin.missingAddress, true, { attempts });

    const provider = providers[input.channel];
    try {
      const sent = await provider.send(
        {
          tenantId: input.tenantId,
          notificationId: input.notificationId,
          channel: input.channel,
          to,
          category: input.category,
          deliveryKey: `${input.notificationId}.${input.recipient.id}.${input.channel}`,
          ...plugin.render(input.message),
        },
        context.cancellationSignal,
      );
      return { ...sent, provider: provider.name, attempts };
    } catch (error) {
      if (context.cancellationSignal.aborted) throw error;
      const permanent = error instanceof PermanentProviderError;
      throw failure(`${provider.name}: ${(error as Error).message}`, permanent, { attempts, provider: provider.name });
    }
  };
}

function failure(message: string, permanent: boolean, details: DeliveryFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: permanent ? PERMANENT_FAILURE : TRANSIENT_FAILURE,
    nonRetryable: permanent,
    details: [details],
  });
}
