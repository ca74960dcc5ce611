import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Channel } from '../domain/channels';
import { addressesOn, missingAddressOn } from '../domain/channel-addresses';
import {
  DELIVERY_RETRY,
  FAILOVER,
  FAILOVER_AFTER_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  PERMANENT_FAILURE,
  TRANSIENT_FAILURE,
} from '../domain/delivery-policy';
import {
  hasSucceeded,
  type Contact,
  type DeliveryDetails,
  type DeliveryStatus,
  type Message,
  type Priority,
} from '../domain/notification';
import type { Database } from '../db/connect';
import { inTenant } from '../db/tenant-scope';
import { recordedDeliveries } from '../db/deliveries';
import { recordEngagement } from '../db/experiments';
import { engagementOf } from '../domain/experiments/experiment';
import { removePushToken } from '../db/recipients';
import { channelPlugins } from './channels';
import type { RenderedMessage } from './channels/channel';
import type { ProvidersByChannel } from './providers';
import { CircuitBreakingProvider } from './providers/circuit-breaker';
import {
  CircuitOpenError,
  InvalidAddressError,
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from './providers/provider';
import { gated, type Pacers, type SendGates } from './pacing';
import { createRecords, type Records } from './record';
import { acknowledgeUrl, unsubscribeUrl, type LinkSettings } from './links';
import { TemplateNotFoundError, type TemplatedMessage } from './templated-message';
import { TemplateRenderError } from '../domain/templates/render';
import {
  acceptToDelivered,
  acceptToProvider,
  deliveryAttempts,
  deliveryRetries,
  providerFailovers,
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
  /**
   * Which of the channel's providers to start from. Absent in workflows from before failover: those
   * always use the first provider and never fail over.
   */
  providerIndex?: number;
  /** Providers tried before this one, kept on the record with the delivery. */
  providersTried?: string[];
  /** The plan's step: a later step on the same channel is a message of its own. */
  step?: number;
  /** Escalating: the message carries a link that acknowledges it. */
  acknowledgeable?: boolean;
  /** Not critical: email carries a one-click unsubscribe link. */
  unsubscribable?: boolean;
}

export interface DeliverResult {
  status: 'sent' | 'delivered';
  provider: string;
  providerMessageId: string;
  attempts: number;
  /** The provider used, as an index into the channel's list (a provider with an open circuit is skipped). */
  providerIndex?: number;
  /** Providers skipped for an open circuit that an earlier try of this send had used: tried all the same. */
  passedOver?: string[];
  details?: DeliveryDetails;
}

/** Carried by every delivery failure so the workflow can report how many tries it took, and where. */
export interface DeliveryFailureDetails {
  attempts: number;
  provider?: string;
  providerIndex?: number;
  /** This provider gave up and another follows: the workflow moves on to `providerIndex + 1`. */
  failover?: boolean;
  /** As in `DeliverResult`: tried before `provider`, skipped by this try. */
  passedOver?: string[];
}

/**
 * One try of one send; `attempts` is the try's number with this provider, which decides retry and failover.
 * `usedBefore` names the providers earlier tries of this send used; without it, a retry (`attempts` > 1)
 * is taken to follow a try of the provider it starts from.
 */
export type DeliverAttempt = (input: DeliverInput, attempts: number, usedBefore?: string[]) => Promise<DeliverResult>;

export interface DeliverOptions {
  pacers?: Pacers;
  gates?: SendGates;
  /** Signs the acknowledge and unsubscribe links messages carry; without it they carry none. */
  links?: LinkSettings;
  records?: Records;
  /** How long one send may wait for its provider's answer; a provider that hangs is a transient failure. */
  sendTimeoutMs?: number;
  /** Renders messages sent from a template; without it such a message fails. */
  renderTemplate?: (input: DeliverInput) => Promise<TemplatedMessage>;
}

/** Below the single send's activity timeout (30 s), so a hung provider fails the try with a reason of its own. */
export const SEND_TIMEOUT_MS = 25_000;

/** The deliver activity, and the one try it makes (taken by the activities that send many at once). */
export function createDeliver(
  providers: ProvidersByChannel,
  db: Database,
  {
    pacers = {},
    gates = () => undefined,
    links,
    records = createRecords(db),
    sendTimeoutMs = SEND_TIMEOUT_MS,
    renderTemplate,
  }: DeliverOptions = {},
) {
  const attempt: DeliverAttempt = async (input, attempts, usedBefore) => {
    const context = Context.current();
    const { channel } = input;
    const priority = input.priority ?? 'normal';
    const plugin = channelPlugins[channel];
    const chain = providers[channel];
    const canFailOver = input.providerIndex !== undefined;
    const startIndex = Math.min(input.providerIndex ?? 0, chain.length - 1);
    let providerIndex = startIndex;
    // A provider whose circuit is open is skipped while another follows it.
    while (canFailOver && providerIndex < chain.length - 1 && isOpen(chain[providerIndex]!)) providerIndex++;
    const provider = chain[providerIndex]!;
    // A provider an earlier try used whose circuit has opened since: this send fails over from it.
    const used = usedBefore ?? (attempts > 1 ? [chain[startIndex]!.name] : []);
    const passedOver = chain
      .slice(startIndex, providerIndex)
      .map((skipped) => skipped.name)
      .filter((name) => used.includes(name));
    for (const name of passedOver) providerFailovers.inc({ channel, provider: name });
    const skips = passedOver.length > 0 ? { passedOver } : {};
    const hasNext = canFailOver && providerIndex < chain.length - 1;
    const count = (outcome: string) => deliveryAttempts.inc({ channel, provider: provider.name, priority, outcome });
    if (attempts > 1) deliveryRetries.inc({ channel, provider: provider.name });

    const addresses = addressesOn(input.recipient, channel);
    if (addresses.length === 0) {
      count('failed');
      throw failure(missingAddressOn(channel), 'permanent', { attempts });
    }
    const templated = input.message.template ? await templatedMessage(input, attempts) : undefined;
    const plain = plugin.render(
      withAcknowledgeLink(
        templated ? { ...input, message: { ...templated.message, groupKey: input.message.groupKey } } : input,
        links,
      ),
    );
    const details = templated ? { ...plain.details, ...templated.details } : plain.details;
    const rendered: RenderedMessage = { ...plain, ...templated?.extras, ...(details ? { details } : {}) };
    await pacers[channel]?.removeTokens(1);
    // A provider that never answers (an SMTP server silent after MAIL FROM) would otherwise hold a send of
    // a batch or a broadcast, whose activity lasts up to an hour, until the socket's own timeout.
    let timeout: AbortSignal | undefined;
    const bounded = () => {
      timeout = AbortSignal.timeout(sendTimeoutMs);
      return AbortSignal.any([context.cancellationSignal, timeout]);
    };
    try {
      const sent = await inProviderSpan(
        `${provider.name} send`,
        { 'herald.channel': channel, 'herald.provider': provider.name },
        () =>
          gated(gates(channel, priority), () =>
            sendToFirstLiveAddress(db, provider, input, addresses, rendered, bounded(), links),
          ),
      );
      const result: DeliverResult = {
        ...sent,
        provider: provider.name,
        attempts,
        ...(canFailOver ? { providerIndex } : {}),
        ...skips,
        ...(rendered.details ? { details: rendered.details } : {}),
      };
      count(sent.status);
      if (input.acceptedAt) {
        acceptToProvider.observe({ channel, priority }, secondsSince(input.acceptedAt));
        if (sent.status === 'delivered')
          acceptToDelivered.observe({ channel, priority }, secondsSince(input.acceptedAt));
      }
      await recordSent(records, input, result);
      await countEngagement(db, input, templated?.details, sent.status);
      return result;
    } catch (thrown) {
      if (context.cancellationSignal.aborted) throw thrown;
      const error = timeout?.aborted
        ? new TransientProviderError(`${provider.name} gave no answer within ${sendTimeoutMs} ms`)
        : thrown;
      const details = { attempts, provider: provider.name, ...(canFailOver ? { providerIndex } : {}), ...skips };
      const message = (error as Error).message;
      const verdict = classify(error, { attempts, hasNext });
      if (verdict === 'failover') providerFailovers.inc({ channel, provider: provider.name });
      count(verdict === 'retry' ? 'retrying' : verdict === 'failover' ? 'failed_over' : 'failed');
      if (verdict === 'permanent' || verdict === 'exhausted')
        await countEngagement(db, input, templated?.details, 'failed');
      throw failure(message, verdict, details, (error as TransientProviderError).retryAfterMs);
    }
  };
  /** A template that cannot render never will: the delivery fails at once, with the reason. */
  const templatedMessage = async (input: DeliverInput, attempts: number) => {
    if (!renderTemplate) throw failure('this worker cannot render templates', 'permanent', { attempts });
    try {
      return await renderTemplate(input);
    } catch (error) {
      if (!(error instanceof TemplateRenderError || error instanceof TemplateNotFoundError)) throw error;
      deliveryAttempts.inc({
        channel: input.channel,
        provider: 'template',
        priority: input.priority ?? 'normal',
        outcome: 'failed',
      });
      throw failure(`the template did not render: ${(error as Error).message}`, 'permanent', { attempts });
    }
  };
  /** One send, retried by Temporal: each failed try leaves the providers used so far for the next to read. */
  const deliver = async (input: DeliverInput): Promise<DeliverResult> => {
    const context = Context.current();
    // A try whose result never reached Temporal (its worker killed, the server restarting) left the send
    // in the record it wrote at once: the retry answers with it instead of sending the message again.
    if (context.info.attempt > 1) {
      const earlier = await sentEarlier(db, input, providers[input.channel]);
      if (earlier) return earlier;
    }
    const usedBefore = (context.info.heartbeatDetails as string[] | undefined) ?? [];
    try {
      return await attempt(input, context.info.attempt, usedBefore);
    } catch (error) {
      const { provider } = ((error as ApplicationFailure).details?.[0] ?? {}) as DeliveryFailureDetails;
      if (provider && !usedBefore.includes(provider)) context.heartbeat([...usedBefore, provider]);
      throw error;
    }
  };
  return { deliver, attempt };
}

type Verdict = 'permanent' | 'failover' | 'retry' | 'exhausted';

/** What a provider's failure means for this delivery. */
function classify(error: unknown, { attempts, hasNext }: { attempts: number; hasNext: boolean }): Verdict {
  if (error instanceof PermanentProviderError) return 'permanent';
  if (error instanceof ProviderRefusedError) return hasNext ? 'failover' : 'permanent';
  const retryAfter = (error as TransientProviderError).retryAfterMs ?? 0;
  if (
    hasNext &&
    (attempts >= FAILOVER_AFTER_ATTEMPTS || error instanceof CircuitOpenError || retryAfter > MAX_RETRY_AFTER_MS)
  )
    return 'failover';
  return attempts >= DELIVERY_RETRY.maximumAttempts! ? 'exhausted' : 'retry';
}

function failure(
  message: string,
  verdict: Verdict,
  details: DeliveryFailureDetails,
  retryAfterMs?: number,
): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: verdict === 'failover' ? FAILOVER : verdict === 'permanent' ? PERMANENT_FAILURE : TRANSIENT_FAILURE,
    nonRetryable: verdict === 'failover' || verdict === 'permanent',
    details: [{ ...details, ...(verdict === 'failover' ? { failover: true } : {}) }],
    // The provider said when to come back: that replaces the usual backoff for the next try.
    nextRetryDelay: verdict === 'retry' && retryAfterMs ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) : undefined,
  });
}

function isOpen(provider: Provider): boolean {
  return provider instanceof CircuitBreakingProvider && provider.opened;
}

/**
 * Tries the contact's addresses in order: a dead one (an unregistered push token) is dropped from the
 * recipient's profile and the next is tried; any other failure ends the attempt.
 */
async function sendToFirstLiveAddress(
  db: Database,
  provider: Provider,
  input: DeliverInput,
  addresses: string[],
  rendered: RenderedMessage,
  signal: AbortSignal,
  links: LinkSettings | undefined,
): Promise<SendResult> {
  const base: Omit<OutboundMessage, 'to'> = {
    tenantId: input.tenantId,
    notificationId: input.notificationId,
    recipientId: input.recipient.id,
    channel: input.channel,
    category: input.category,
    deliveryKey: deliveryKey(input),
    ...rendered,
    ...(links && input.unsubscribable && input.channel === 'email'
      ? {
          unsubscribeUrl: unsubscribeUrl(links, {
            tenantId: input.tenantId,
            recipientId: input.recipient.id,
            category: input.category,
          }),
        }
      : {}),
  };
  let lastInvalid: InvalidAddressError | undefined;
  for (const to of addresses) {
    try {
      return await provider.send({ ...base, to }, signal);
    } catch (error) {
      if (!(error instanceof InvalidAddressError)) throw error;
      lastInvalid = error;
      if (input.channel === 'push')
        await inTenant(db, input.tenantId, (tx) => removePushToken(tx, input.tenantId, input.recipient.id, to));
      log.info('dropped a dead address', { channel: input.channel, provider: provider.name });
    }
  }
  throw new PermanentProviderError(
    addresses.length > 1 ? `every address failed; the last: ${lastInvalid!.message}` : lastInvalid!.message,
  );
}

/**
 * Records the provider's message id at once, so a receipt that beats the workflow's own bookkeeping
 * still finds its delivery. Best effort: failing here must not make the activity send again.
 */
async function recordSent(records: Records, input: DeliverInput, result: DeliverResult): Promise<void> {
  try {
    await records.recordDeliveries(input.tenantId, input.notificationId, [
      {
        recipientId: input.recipient.id,
        channel: input.channel,
        step: input.step,
        ...result,
        providersTried: [...(input.providersTried ?? []), ...(result.passedOver ?? []), result.provider],
      },
    ]);
  } catch (error) {
    log.warn('could not record the sent delivery early; the workflow records it next', { error });
  }
}

/** A send in an experiment: delivered or failed counts for its variant. Best effort, as the record is. */
async function countEngagement(
  db: Database,
  input: DeliverInput,
  details: DeliveryDetails | undefined,
  status: DeliveryStatus,
): Promise<void> {
  const engagement = engagementOf(status);
  if (!details?.experimentId || !engagement) return;
  try {
    await inTenant(db, input.tenantId, (tx) =>
      recordEngagement(tx, input.tenantId, details.experimentId!, input.recipient.id, engagement),
    );
  } catch (error) {
    log.warn('could not count the send for its experiment', { error });
  }
}

/** This send as its record shows it sent by an earlier try, if one did. */
async function sentEarlier(db: Database, input: DeliverInput, chain: Provider[]): Promise<DeliverResult | undefined> {
  const rows = await inTenant(db, input.tenantId, (tx) => recordedDeliveries(tx, input, [input.recipient.id]));
  const row = rows.find((r) => r.step === (input.step ?? 0));
  const status = row?.status as DeliveryStatus | undefined;
  if (!row || !status || !hasSucceeded({ status }) || !row.provider || !row.providerMessageId) return undefined;
  const providerIndex = chain.findIndex((p) => p.name === row.provider);
  return {
    status: status === 'delivered' ? 'delivered' : 'sent',
    provider: row.provider,
    providerMessageId: row.providerMessageId,
    attempts: row.attempts,
    ...(input.providerIndex !== undefined && providerIndex >= 0 ? { providerIndex } : {}),
    ...(row.details ? { details: row.details } : {}),
  };
}

/** One send of one delivery: the same across retries, different for a later step on the same channel. */
function deliveryKey(input: DeliverInput): string {
  const key = `${input.notificationId}.${input.recipient.id}.${input.channel}`;
  return input.step ? `${key}.${input.step}` : key;
}

/** An escalating message offers "Acknowledge" wherever it can show a link or a button. */
function withAcknowledgeLink(input: DeliverInput, links: LinkSettings | undefined): Message {
  if (!input.acknowledgeable || !links) return input.message;
  const url = acknowledgeUrl(links, {
    tenantId: input.tenantId,
    notificationId: input.notificationId,
    recipientId: input.recipient.id,
    channel: input.channel,
  });
  return { ...input.message, actions: [...(input.message.actions ?? []), { label: 'Acknowledge', url }] };
}
