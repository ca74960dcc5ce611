import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connect';
import { wakeSnoozedMessages } from '../db/inbox-messages';

/** Messages woken per statement: a first check after a long pause takes its backlog a batch at a time. */
const WAKE_AT_ONCE = 1000;

async function wakeAll(db: Database): Promise<void> {
  while ((await wakeSnoozedMessages(db, WAKE_AT_ONCE)) === WAKE_AT_ONCE);
}

/**
 * Wakes snoozed inbox messages every `everyMs`, so a snooze that ends is an event live inboxes hear (a
 * read already judges snoozes by the clock; this is what tells an open inbox). Each API process runs it:
 * a message is woken by whichever comes first, and the others find nothing to do. Returns its stop, which
 * waits for a check under way.
 */
export function wakeSnoozedOnSchedule(db: Database, log: FastifyBaseLogger, everyMs: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= wakeAll(db)
      .catch((error: unknown) => log.warn({ err: error }, 'could not wake snoozed inbox messages'))
      .finally(() => (running = undefined));
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
