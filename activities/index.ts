import type { Database } from '../db/connect';
import type { Channel } from '../domain/channels';
import { createBroadcastActivities } from './broadcast';
import { createDeliver } from './deliver';
import { createDeliverBatch } from './deliver-batch';
import { channelPacers, channelSendGates } from './pacing';
import type { ProvidersByChannel } from './providers';
import { createRecords } from './record';
import { createPlanRecipient, createPlanRecipients } from './plan-recipient';
import { withSafeErrors } from './safe-errors';
import type { LinkSettings } from './links';
import type { RenderPool } from '../runtime/render-pool';
import { createTemplateRendering } from './templated-message';
import { createExperimentActivities } from './experiments';

export interface ActivityDependencies {
  db: Database;
  providers: ProvidersByChannel;
  /** Sends per second per channel; the same limits the worker applies to the channel's queue. */
  rateLimits?: Partial<Record<Channel, number>>;
  /** Sends in flight per channel, whichever activity makes them; the same the worker gives the channel's queue as slots. */
  channelConcurrency?: Partial<Record<Channel, number>>;
  /** Signs the acknowledge and unsubscribe links messages carry; without it they carry none. */
  links?: LinkSettings;
  /** Renders templated messages on threads of their own; without it a templated message fails. */
  renderer?: Pick<RenderPool, 'render'>;
}

/** Activities get their dependencies from here, so tests hand in real ones of their choosing. */
export function createActivities({
  db,
  providers,
  rateLimits,
  channelConcurrency,
  links,
  renderer,
}: ActivityDependencies) {
  const records = createRecords(db);
  const { deliver, attempt } = createDeliver(providers, db, {
    pacers: channelPacers(rateLimits),
    gates: channelSendGates(channelConcurrency),
    links,
    records,
    ...(renderer ? { renderTemplate: createTemplateRendering(db, renderer, links) } : {}),
  });
  return withSafeErrors({
    deliver,
    deliverBatch: createDeliverBatch(db, attempt),
    planRecipient: createPlanRecipient(db),
    planRecipients: createPlanRecipients(db),
    recordNotification: records.recordNotification,
    ...createBroadcastActivities(db, attempt),
    ...createExperimentActivities(db),
  });
}

export type Activities = ReturnType<typeof createActivities>;
export type { LinkSettings } from './links';
export type { DeliverInput, DeliverResult, DeliveryFailureDetails } from './deliver';
export type { BatchItem, DeliverBatchInput, SendOutcome } from './deliver-batch';
