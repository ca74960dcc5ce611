import type { Database } from '../db/connect';
import type { Channel } from '../domain/channels';
import { createBroadcastActivities } from './broadcast';
import { createDeliver } from './deliver';
import { channelPacers } from './pacing';
import type { ProvidersByChannel } from './providers';
import { createRecords } from './record';
import { createPlanRecipient } from './plan-recipient';
import type { LinkSettings } from './links';

export interface ActivityDependencies {
  db: Database;
  providers: ProvidersByChannel;
  /** Sends per second per channel; the same limits the worker applies to the channel's queue. */
  rateLimits?: Partial<Record<Channel, number>>;
  /** Signs the acknowledge and unsubscribe links messages carry; without it they carry none. */
  links?: LinkSettings;
}

/** Activities get their dependencies from here, so tests hand in real ones of their choosing. */
export function createActivities({ db, providers, rateLimits, links }: ActivityDependencies) {
  const records = createRecords(db);
  const deliver = createDeliver(providers, db, channelPacers(rateLimits), links, records);
  return {
    deliver,
    planRecipient: createPlanRecipient(db),
    recordNotification: records.recordNotification,
    ...createBroadcastActivities(db, deliver),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { LinkSettings } from './links';
export type { DeliverInput, DeliverResult, DeliveryFailureDetails } from './deliver';
