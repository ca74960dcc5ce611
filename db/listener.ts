import { setTimeout as sleep } from 'node:timers/promises';

/** Stops listening. */
export type StopListening = () => Promise<void>;

/** A NOTIFY channel's messages as they come; `resumed` once a lost connection is back (what came meanwhile was missed). */
export type Listen = (channel: string, heard: (payload: string) => void, resumed: () => void) => Promise<StopListening>;

const RECONNECT_MS = 1000;

/**
 * Listens on a PostgreSQL connection of its own, outside the pool (a pooled connection would be handed
 * to queries). A lost connection is opened again every second until it is back.
 */
export function postgresListen(url: string): Listen {
  return async (channel, heard, resumed) => {
    const { Client } = await import('pg');
    let stopped = false;
    let client: InstanceType<typeof Client> | undefined;
    const connect = async (): Promise<void> => {
      const next = new Client({ connectionString: url });
      next.on('notification', (message) => {
        if (message.channel === channel) heard(message.payload ?? '');
      });
      next.on('error', () => reconnect(next));
      next.on('end', () => reconnect(next));
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      client = next;
    };
    const reconnect = (lost: InstanceType<typeof Client>) => {
      if (stopped || client !== lost) return;
      client = undefined;
      void (async () => {
        while (!stopped && !client) {
          await sleep(RECONNECT_MS, undefined, { ref: false });
          try {
            await connect();
            resumed();
          } catch {
            // Still down: try again.
          }
        }
      })();
    };
    await connect();
    return async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    };
  };
}
