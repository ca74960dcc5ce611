import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Channel } from '../domain/channels';
import { DELIVERY_RETRY, PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../domain/delivery-policy';
import type { Contact, Message, Priority } from '../domain/notification';
import { channelPlugins } from './channels';
import { PermanentProviderError, type Provider } from './providers/provider';
import { upsertDeliveries } from './record';
import type { Database } from '../db/connect';
import {
  acceptToDelivered,
  acceptToProvider,
  deliveryAttempts,
  deliveryRetries,
  secondsSince,
} from '../observability/metrics';
import { inProviderSpan } from '../observability/tracing';

export interface DeliverInput {
  tenantId: string;
  notificationId: string;
  channel: Channel;
  recipient: Contact;
  message: Message;
  category?: string;
  /** For metrics; absent on sends scheduled before they were added. */
  priority?: Priority;
  acceptedAt?: string;
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

export function createDeliver(providers: ProvidersByChannel, db: Database) {
  return async function deliver(input: DeliverInput): Promise<DeliverResult> {
    const context = Context.current();
    const attempts = context.info.attempt;
    const { channel } = input;
    const priority = input.priority ?? 'normal';
    const plugin = channelPlugins[channel];
    const provider = providers[channel];
    const count = (outcome: string) => deliveryAttempts.inc({ channel, provider: provider.name, priority, outcome });
    if (attempts > 1) deliveryRetries.inc({ channel, provider: provider.name });

    const to = plugin.addressOf(input.recipient);
    if (!to) {
      count('failed');
      throw failure(plugin.missingAddress, true, { attempts });
    }
    try {
      const message = {
        tenantId: input.tenantId,
        notificationId: input.notificationId,
        channel,
        to,
        category: input.category,
        deliveryKey: `${input.notificationId}.${input.recipient.id}.${channel}`,
        ...plugin.render(input.message),
      };
      const sent = await inProviderSpan(
        `${provider.name} send`,
        { 'herald.channel': channel, 'herald.provider': provider.name },
        () => provider.send(message, context.cancellationSignal),
      );
      const result = { ...sent, provider: provider.name, attempts };
      count(sent.status);
      if (input.acceptedAt) {
        acceptToProvider.observe({ channel, priority }, secondsSince(input.acceptedAt));
        if (sent.status === 'delivered')
          acceptToDelivered.observe({ channel, priority }, secondsSince(input.acceptedAt));
      }
      await recordSent(db, input, result);
      return result;
    } catch (error) {
      if (context.cancellationSignal.aborted) throw error;
      const permanent = error instanceof PermanentProviderError;
      count(permanent || attempts >= DELIVERY_RETRY.maximumAttempts! ? 'failed' : 'retrying');
      throw failure((error as Error).message, permanent, { attempts, provider: provider.name });
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

/**
 * Records the provider's message id at once, so a receipt that beats the workflow's own bookkeeping
 * still finds its delivery. Best effort: failing here must not make the activity send again.
 */
async function recordSent(db: Database, input: DeliverInput, result: DeliverResult): Promise<void> {
  try {
    await upsertDeliveries(db, input.tenantId, input.notificationId, [
      { recipientId: input.recipient.id, channel: input.channel, ...result },
    ]);
  } catch (error) {
    log.warn('could not record the sent delivery early; the workflow records it next', { error });
  }
}
