import type { Database } from '../db/connect';
import { createDeliver } from './deliver';
import type { ProvidersByChannel } from './providers';
import { createRecordNotification } from './record';

export interface ActivityDependencies {
  db: Database;
  providers: ProvidersByChannel;
}

/** Activities get their dependencies from here, so tests hand in real ones of their choosing. */
export function createActivities({ db, providers }: ActivityDependencies) {
  return {
    deliver: createDeliver(providers, db),
    recordNotification: createRecordNotification(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliverInput, DeliverResult, DeliveryFailureDetails } from './deliver';
