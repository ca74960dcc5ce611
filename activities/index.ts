import type { Database } from '../db/connect';
import type { Channel } from '../domain/channels';
import { createDeliver } from './deliver';
import { channelPacers } from './pacing';
import type { ProvidersByChannel } from './providers';
import { createRecordNotification } from './record';

export interface ActivityDependencies {
  db: Database;
  providers: ProvidersByChannel;
  /** Sends per second per channel; the same limits the worker applies to the channel's queue. */
  rateLimits?: Partial<Record<Channel, number>>;
}

/** Activities get their dependencies from here, so tests hand in real ones of their choosing. */
export function createActivities({ db, providers, rateLimits }: ActivityDependencies) {
  return {
    deliver: createDeliver(providers, db, channelPacers(rateLimits)),
    recordNotification: createRecordNotification(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliverInput, DeliverResult, DeliveryFailureDetails } from './deliver';
