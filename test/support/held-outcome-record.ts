import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';

/**
 * Herald's activities with the outcome's record held: the local record fails, so the workflow falls back
 * to the regular activity (which, unlike a local one, lets signals in while it runs), and that waits from
 * when it runs (`running`) until `release()`. Every other record goes through at once.
 */
export function heldOutcomeRecord(real: Activities) {
  let started!: () => void;
  let release!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const activities: Activities = {
    ...real,
    recordNotification: async (snapshot) => {
      if (snapshot.status !== 'delivered') return real.recordNotification(snapshot);
      if (Context.current().info.isLocal) throw new Error('database slow');
      started();
      await released;
      return real.recordNotification(snapshot);
    },
  };
  return { activities, running, release };
}
